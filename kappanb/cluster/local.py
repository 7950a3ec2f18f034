"""`LocalCluster`: start, stop and inspect the local cluster (see kappanb.cluster).

`up` starts what is not running (what runs is left alone), waits until every service
answers, checks both buckets with the keys, and writes the profile file. A failure stops
what that `up` started, so nothing is left half-started. `down` stops exactly the
processes the cluster's pid files (or marks) identify as its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from kappanb.cluster import flink_nodes, kafka_nodes, object_store
from kappanb.cluster.health import Health, address
from kappanb.cluster.layout import (
    JOBMANAGER,
    KAFKA_NODES,
    OBJECT_STORE,
    SERVICES,
    TASKMANAGERS,
    ClusterLayout,
    kafka_service,
    taskmanager_service,
)
from kappanb.cluster.ports import SERVICE_PORTS, plan_ports
from kappanb.cluster.processes import ClusterProcesses
from kappanb.cluster.profile_file import write_profile_file
from kappanb.cluster.results import ClusterStatus, ClusterUpResult
from kappanb.cluster.secrets import ClusterSecrets, ensure_secrets
from kappanb.exceptions import ServiceStartError
from kappanb.settings import StackSettings
from kappanb.stack import kafka_broker
from kappanb.stack.jars import JarCache, JarSet
from kappanb.stack.java import JavaRuntime, find_java
from kappanb.stack.logtail import failure_excerpt
from kappanb.stack.state_file import read_state, save_state
from kappanb.stack.status import DownResult, ServiceStatus

Say = Callable[[str], None]
KAFKAS = [kafka_service(n) for n in KAFKA_NODES]
TASK_MANAGERS = [taskmanager_service(n) for n in TASKMANAGERS]


def _quiet(_msg: str) -> None:
    pass


def _answers(service: str, health: Health) -> bool:
    return health.healthy(service)


def _new_taskmanager(service: str, before: str | None, health: Health) -> bool:
    """The TaskManager registered from its new process (at another address than before)."""
    return health.taskmanagers.get(flink_nodes.resource_id(service), before) != before


def _store_ready(console_log: Path, since: int, health: Health) -> bool:
    """The object store answers, and said it is ready since this start."""
    return health.object_store and object_store.ready(console_log, since)


def default_cluster_home(env: dict[str, str] | None = None) -> Path:
    """``$KAPPANB_CLUSTER_HOME``, else ``cluster/`` in the kappanb home."""
    env = dict(os.environ) if env is None else env
    if env.get("KAPPANB_CLUSTER_HOME"):
        return Path(env["KAPPANB_CLUSTER_HOME"]).expanduser()
    return StackSettings.from_env(env).home / "cluster"


@dataclass(frozen=True)
class ClusterSizes:
    """Heaps and slots, small enough for 7 processes on a 2-core machine."""

    kafka_heap: str = "320m"
    jobmanager_memory: str = "768m"
    taskmanager_memory: str = "1536m"
    """A TaskManager's process (`flink_nodes.config`): 256 MB of JVM heap (64 MB framework,
    192 MB task), 128 MB framework off-heap, 256 MB managed memory (RocksDB), 64 MB network,
    640 MB metaspace, 192 MB JVM overhead (the rest, its minimum)."""
    task_slots: int = 2
    start_timeout: float = 240.0
    stop_timeout: float = 30.0
    kafka_stop_timeout: float = 15.0
    """A node waits for the controllers to approve its controlled shutdown, for minutes
    when a majority of them has already gone (the others stopped first): killed after this."""


class LocalCluster:
    """Three Kafka nodes, a Flink JobManager and two TaskManagers, SeaweedFS (S3 and an
    Iceberg REST catalog), all on 127.0.0.1, with their files under ``home``."""

    def __init__(
        self, home: Path | None = None, *, port_base: int | None = None,
        sizes: ClusterSizes | None = None, settings: StackSettings | None = None,
    ) -> None:  # fmt: skip
        self.layout = ClusterLayout((home or default_cluster_home()).expanduser().resolve())
        self.port_base, self.sizes = port_base, sizes or ClusterSizes()
        self.settings = settings or StackSettings.from_env()  # the jar and format caches
        self.processes = ClusterProcesses(self.layout, self.sizes.start_timeout)

    @property
    def profile_file(self) -> Path:
        return self.layout.profile_file

    # ---- state kept across down/up -------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return read_state(self.layout.state_file)

    def _save_state(self, state: dict[str, Any]) -> None:
        save_state(self.layout.state_file, state)

    def ports(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._state().get("ports", {}).items()}

    # ---- up ------------------------------------------------------------------------
    def up(self, say: Say = _quiet) -> ClusterUpResult:
        """Start what is not running, wait until all of it answers, write the profile."""
        began = time.monotonic()
        java, weed = find_java(), object_store.weed_binary()  # before anything is made
        self.layout.home.mkdir(parents=True, exist_ok=True)
        with self.processes.locked("up", say):
            jars = JarCache(self.settings).ensure(say).jars
            notes = self.processes.forget_stale()
            live = set(self.processes.live())
            missing = [s for s in SERVICES if s not in live]
            state = self._state()
            state.setdefault("cluster_id", kafka_broker.new_cluster_id())
            ports, moved = plan_ports(
                missing, state.get("ports", {}), base=self.port_base, pinned=self._pinned(live)
            )
            state["ports"] = {**state.get("ports", {}), **ports}
            self._save_state(state)
            secrets = ensure_secrets(self.layout)
            started = self._start_missing(missing, java, weed, jars, state, secrets, say)
            write_profile_file(self.layout, state["ports"])
        return ClusterUpResult(
            self.status(), started, [s for s in SERVICES if s in live], notes + moved,
            time.monotonic() - began,
        )  # fmt: skip

    def _pinned(self, live: set[str]) -> dict[str, str]:
        """Ports that cannot move because a running service knows them."""
        why = "or run `kappanb cluster down`, then `kappanb cluster up`"
        pinned: dict[str, str] = {}
        if any(k in live for k in KAFKAS):  # the quorum's voters name every node's port
            pinned.update({n: why for k in KAFKAS for n in SERVICE_PORTS[k]})
        if any(t in live for t in TASK_MANAGERS):  # they find the JobManager at its port
            pinned.update({n: why for n in SERVICE_PORTS[JOBMANAGER]})
        return pinned

    def _start_missing(
        self, missing: list[str], java: JavaRuntime, weed: Path, jars: JarSet,
        state: dict[str, Any], secrets: ClusterSecrets, say: Say,
    ) -> list[str]:  # fmt: skip
        layout, ports, started = self.layout, state["ports"], []
        waiting: dict[str, Callable[[Health], bool]] = {}
        try:
            if OBJECT_STORE in missing:
                object_store.prepare(layout)
                log = layout.console_log(OBJECT_STORE)
                since = log.stat().st_size if log.is_file() else 0
                argv = object_store.argv(weed, layout, ports)
                self.processes.start(OBJECT_STORE, argv, object_store.environment(secrets), say)
                started.append(OBJECT_STORE)
                waiting[OBJECT_STORE] = partial(_store_ready, log, since)
            nodes = [n for n in KAFKA_NODES if kafka_service(n) in missing]
            if nodes:
                kafka_nodes.write_configs(layout, nodes, ports)
                say("formatting the Kafka log directories (first start) ...")
                kafka_nodes.format_nodes(java, jars, layout, nodes, state["cluster_id"])
            for node in nodes:
                argv = kafka_nodes.node_argv(java, jars, layout, node, self.sizes.kafka_heap)
                self.processes.start(kafka_service(node), argv, dict(os.environ), say)
                started.append(kafka_service(node))
                waiting[kafka_service(node)] = partial(_answers, kafka_service(node))
            flink = [s for s in (JOBMANAGER, *TASK_MANAGERS) if s in missing]
            # A killed TaskManager stays registered for a while: wait for the new one.
            known = flink_nodes.registered_taskmanagers(ports) if JOBMANAGER not in missing else {}
            if JOBMANAGER in missing:
                flink_nodes.build_folders(layout, jars)
                flink_nodes.write_config(layout, flink_nodes.config(
                    layout, ports, slots=self.sizes.task_slots,
                    jm_memory=self.sizes.jobmanager_memory,
                    tm_memory=self.sizes.taskmanager_memory,
                ))  # fmt: skip
            for service in flink:
                env = flink_nodes.environment(service, layout, java, secrets)
                self.processes.start(service, flink_nodes.argv(service), env, say)
                started.append(service)
                waiting[service] = (
                    partial(_answers, service) if service == JOBMANAGER
                    else partial(_new_taskmanager, service,
                                 known.get(flink_nodes.resource_id(service)))
                )  # fmt: skip
            self._wait(waiting, ports, say)
            object_store.check_buckets(ports, secrets)
        except BaseException:
            # Leave nothing half-started: stop what this call started.
            if started:
                say(f"stopping what this `up` started: {', '.join(started)} ...")
                self.processes.stop(list(reversed(started)), self.sizes.stop_timeout)
            raise
        return started

    def _wait(self, waiting: dict[str, Callable[[Health], bool]], ports: dict[str, int],
              say: Say) -> None:  # fmt: skip
        """Until every started service answers; fail at once when one of them exits."""
        if not waiting:
            return
        say(f"waiting for {', '.join(waiting)} to answer ...")
        deadline = time.monotonic() + self.sizes.start_timeout
        pending = dict(waiting)
        while pending:
            for service in pending:
                if not self.processes.running(service):
                    raise ServiceStartError(
                        f"{service} of the local cluster exited during start-up.\n"
                        f"{self._failure_hint(service)}"
                    )
            health = Health.ask(ports, set(SERVICES))
            pending = {s: ok for s, ok in pending.items() if not ok(health)}
            if not pending:
                return
            if time.monotonic() > deadline:
                late = ", ".join(pending)
                raise ServiceStartError(
                    f"{late} of the local cluster did not answer within "
                    f"{self.sizes.start_timeout:.0f} s.\n{self._failure_hint(next(iter(pending)))}"
                )
            time.sleep(0.5)

    def _failure_hint(self, service: str) -> str:
        log = self.log_file(service)
        excerpt = (object_store.failure_excerpt_of(log) if service == OBJECT_STORE
                   else failure_excerpt(log))  # fmt: skip
        return (f"What its log says:\n{excerpt}\nFix the cause, then run `kappanb cluster up` "
                "again.")  # fmt: skip

    # ---- down, status, logs ----------------------------------------------------------
    def down(self, say: Say = _quiet) -> DownResult:
        """Stop every process of this cluster (TaskManagers first, the object store last)."""
        began = time.monotonic()
        outcomes: dict[str, str] = {}
        with self.processes.locked("down"):
            for group in (TASK_MANAGERS, [JOBMANAGER], KAFKAS, [OBJECT_STORE]):
                timeout = self.sizes.kafka_stop_timeout if group == KAFKAS else (
                    self.sizes.stop_timeout)  # fmt: skip
                # All of a group at once: the three Kafka nodes stop together, each while
                # the others' controllers can still approve its controlled shutdown.
                outcomes.update(self.processes.stop(group, timeout, say))
        return DownResult({s: outcomes[s] for s in SERVICES}, time.monotonic() - began)

    def status(self) -> ClusterStatus:
        """Each service: stopped, running (it answers), or unhealthy (it runs, but does not)."""
        ports, live = self.ports(), self.processes.live()
        health = Health.ask(ports, set(live)) if ports else None
        services = []
        for service in SERVICES:
            record = live.get(service)
            ok = health is not None and health.healthy(service)
            services.append(ServiceStatus(
                service, "stopped" if record is None else ("running" if ok else "unhealthy"),
                address(service, ports) if ports else "",
                web_ui=flink_nodes.rest_url(ports) if service == JOBMANAGER and record else "",
                pid=record.pid if record else None, log_file=str(self.log_file(service)),
            ))  # fmt: skip
        return ClusterStatus(str(self.layout.home), services, str(self.profile_file))

    def log_file(self, service: str) -> Path:
        self.processes.marks(service)  # refuses an unknown service
        if service in (JOBMANAGER, *TASK_MANAGERS):
            return flink_nodes.log_file(self.layout, service)
        return self.layout.console_log(service)
