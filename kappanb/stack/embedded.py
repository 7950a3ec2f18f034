"""The embedded stack of one kappanb home: Kafka, a Flink session cluster, an Iceberg catalog."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from kappanb.exceptions import ServiceStartError, StackNotRunningError, UnknownServiceError
from kappanb.settings import StackSettings
from kappanb.stack import flink_cluster, kafka_broker
from kappanb.stack.base import StackPlaces
from kappanb.stack.endpoints import Endpoints
from kappanb.stack.formats import formats_jar
from kappanb.stack.home_processes import HomeProcesses
from kappanb.stack.jars import JarCache, JarSet
from kappanb.stack.java import JavaRuntime, find_java
from kappanb.stack.layout import SERVICES, HomeLayout
from kappanb.stack.logtail import failure_excerpt, last_lines
from kappanb.stack.ports import HOST, choose_ports
from kappanb.stack.process import (
    read_pid_file,
    start_process,
    stop_process,
)
from kappanb.stack.state_file import read_state, save_state
from kappanb.stack.status import DownResult, ServiceStatus, StackStatus, UpResult
from kappanb.tables.catalog import CatalogLocation, catalog_table_count, init_catalog

Say = Callable[[str], None]
CATALOG = "iceberg-catalog"
_PORT_LABELS = {
    "kafka": "the Kafka broker",
    "kafka_controller": "the Kafka controller",
    "flink_rest": "the Flink REST API / web UI",
    "flink_rpc": "the Flink JobManager RPC",
}
_SERVICE_PORTS = {
    "kafka": ("kafka", "kafka_controller"),
    "flink-jobmanager": ("flink_rest", "flink_rpc"),
}


def _quiet(_msg: str) -> None:
    pass


class EmbeddedStack:
    """Start, stop and inspect the local stack. Every call is bounded by a timeout."""

    def __init__(self, settings: StackSettings | None = None) -> None:
        self.settings = settings or StackSettings.from_env()
        self.layout = HomeLayout(self.settings.home)
        self.processes = HomeProcesses(self.layout, self.settings.start_timeout)

    # ---- state kept across down/up -------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return read_state(self.layout.state_file)

    def _save_state(self, state: dict[str, Any]) -> None:
        save_state(self.layout.state_file, state)

    @property
    def profile(self) -> str:
        return "embedded"

    @property
    def places(self) -> StackPlaces:
        """Everything under the home (`HomeLayout`)."""
        layout = self.layout
        return StackPlaces(
            home=layout.home,
            registry_db=layout.registry_db,
            dead_letter_tallies=layout.dead_letter_tallies,
            checkpoints=layout.flink_checkpoints.as_uri(),
            savepoints=layout.flink_savepoints.as_uri(),
            job_archive=layout.flink_job_archive.as_uri(),
        )

    def with_task_slots(self, slots: int) -> EmbeddedStack:
        """This home's stack, to be started with ``slots`` task slots."""
        if slots == self.settings.task_slots:
            return self
        return EmbeddedStack(replace(self.settings, task_slots=slots))

    def endpoints(self) -> Endpoints:
        """Addresses of the services (from the ports the last `up` chose)."""
        ports = {**self.settings.ports, **self._state().get("ports", {})}
        return Endpoints.for_home(self.layout, ports, self.settings.catalog_name)

    # ---- up ------------------------------------------------------------------------
    def up(self, say: Say = _quiet) -> UpResult:
        """Start what is not running, wait until everything is healthy, report."""
        began = time.monotonic()
        with self.processes.locked("up", say):
            java = find_java()
            jars = JarCache(self.settings).ensure(say).jars
            notes = self.processes.refresh_pid_files()
            live = {svc for svc in SERVICES if self.processes.live_record(svc)}
            state = self._state()
            state.setdefault("cluster_id", kafka_broker.new_cluster_id())
            wanted_names = [
                n for svc, names in _SERVICE_PORTS.items() if svc not in live for n in names
            ]
            wanted = {n: self._wanted_port(n, state) for n in wanted_names}
            chosen = choose_ports(wanted, self.settings.explicit_ports, _PORT_LABELS)
            notes += [c.describe() for c in chosen.values() if c.moved]
            running_slots = state.get("task_slots")
            if "flink-jobmanager" in live and running_slots not in (None, self.settings.task_slots):
                notes.append(
                    f"the running cluster has {running_slots} task slots, not "
                    f"{self.settings.task_slots}: run `kappanb down`, then `up`, to change it"
                )
            state["ports"] = {**state.get("ports", {}), **{n: c.port for n, c in chosen.items()}}
            self._save_state(state)
            started = self._start_missing(live, java, jars, state, say)
        status = self.status()
        return UpResult(
            status, started, sorted(live, key=SERVICES.index), notes, time.monotonic() - began
        )

    def _wanted_port(self, name: str, state: dict[str, Any]) -> int:
        if name in self.settings.explicit_ports:
            return self.settings.ports[name]
        return int(state.get("ports", {}).get(name, self.settings.ports[name]))

    def _start_missing(
        self, live: set[str], java: JavaRuntime, jars: JarSet, state: dict[str, Any], say: Say
    ) -> list[str]:
        s, layout, ep = self.settings, self.layout, self.endpoints()
        started: list[str] = []
        try:
            init_catalog(ep.catalog)
            if "kafka" not in live:
                kafka_broker.write_config(
                    layout, state["ports"]["kafka"], state["ports"]["kafka_controller"]
                )
                if not kafka_broker.is_formatted(layout):
                    say("formatting the Kafka log directory (first start) ...")
                    kafka_broker.format_storage(
                        java, jars, layout, s.kafka_heap, state["cluster_id"]
                    )
                self._start(
                    "kafka",
                    kafka_broker.broker_argv(java, jars, layout, s.kafka_heap),
                    dict(os.environ),
                    say,
                )
                started.append("kafka")
            if "flink-jobmanager" not in live:
                own = formats_jar(s.cache_dir, flink_cluster.flink_dist() / "lib", say)
                flink_cluster.build_lib(layout, jars, [own])
                flink_cluster.write_conf(
                    layout,
                    flink_cluster.flink_config(
                        layout,
                        state["ports"]["flink_rest"],
                        state["ports"]["flink_rpc"],
                        slots=s.task_slots,
                        jm_memory=s.jobmanager_memory,
                        tm_memory=s.taskmanager_memory,
                    )
                    | dict(s.flink_overrides),
                )
                state["task_slots"] = s.task_slots
                self._save_state(state)
                self._start_flink("flink-jobmanager", java, say)
                started.append("flink-jobmanager")
            if "kafka" in started:
                self._wait("kafka", lambda: kafka_broker.broker_healthy(ep.bootstrap_servers))
            if "flink-jobmanager" in started:
                self._wait(
                    "flink-jobmanager", lambda: flink_cluster.jobmanager_healthy(ep.flink_rest_url)
                )
            before: frozenset[str] = frozenset()
            if "flink-taskmanager" not in live:
                # A killed TaskManager stays registered until its heartbeats fail: wait for
                # the new one, not for the old one's slots.
                if "flink-jobmanager" not in started:
                    before = frozenset(flink_cluster.taskmanager_ids(ep.flink_rest_url))
                self._start_flink("flink-taskmanager", java, say)
                started.append("flink-taskmanager")
            if "flink-taskmanager" in started or "flink-jobmanager" in started:
                # (A TaskManager that outlived its JobManager registers with the new one.)
                self._wait(
                    "flink-taskmanager",
                    lambda: flink_cluster.taskmanager_healthy(
                        ep.flink_rest_url, self.task_slots(), before
                    ),
                )
        except BaseException:
            # Leave nothing half-started: stop what this call started, newest first.
            for service in reversed(started):
                record = read_pid_file(layout.pid_file(service))
                if record:
                    stop_process(record, s.stop_timeout)
                    layout.pid_file(service).unlink(missing_ok=True)
            raise
        return started

    def _start(self, service: str, argv: list[str], env: dict[str, str], say: Say) -> None:
        say(f"starting {service} ...")
        start_process(
            service,
            argv,
            pid_file=self.layout.pid_file(service),
            log_file=self.layout.console_log(service),
            env=env,
            cwd=self.layout.home,
            marks=self.processes.marks(service),
        )

    def _start_flink(self, service: str, java: JavaRuntime, say: Say) -> None:
        env = flink_cluster.process_env(service, self.layout, java)
        self._start(service, flink_cluster.process_argv(service), env, say)

    def _wait(self, service: str, healthy: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.settings.start_timeout
        while time.monotonic() < deadline:
            record = read_pid_file(self.layout.pid_file(service))
            if record is None or not record.matches_live_process():
                raise ServiceStartError(
                    f"{service} exited during start-up.\n{self._failure_hint(service)}"
                )
            if healthy():
                return
            time.sleep(0.5)
        raise ServiceStartError(
            f"{service} did not become healthy within {self.settings.start_timeout:.0f} s.\n"
            f"{self._failure_hint(service)}"
        )

    def _failure_hint(self, service: str) -> str:
        # The console log has the JVM's own complaints too, and a marker at each start.
        excerpt = failure_excerpt(self.layout.console_log(service))
        return f"What its log says:\n{excerpt}\nFix the cause, then run `kappanb up` again."

    # ---- down ----------------------------------------------------------------------
    def down(self, say: Say = _quiet) -> DownResult:
        """Stop exactly the processes this home started: TERM, then KILL after a timeout."""
        began = time.monotonic()
        outcomes: dict[str, str] = {}
        with self.processes.locked("down"):
            for service in reversed(SERVICES):
                pid_file = self.layout.pid_file(service)
                found = self.processes.running(service)
                ends = []
                for record in found:
                    say(f"stopping {service} (pid {record.pid}) ...")
                    ends.append(stop_process(record, self.settings.stop_timeout))
                if not found:
                    stale = pid_file.exists()
                    ends.append("not running (stale pid file removed)" if stale else "not running")
                more = f" (and {len(ends) - 1} more of this home)" if len(ends) > 1 else ""
                outcomes[service] = ends[0] + more
                pid_file.unlink(missing_ok=True)
        return DownResult(outcomes, time.monotonic() - began)

    # ---- status and logs -----------------------------------------------------------
    def task_slots(self) -> int:
        """Slots the cluster was configured with (by the `up` that started it)."""
        return int(self._state().get("task_slots", self.settings.task_slots))

    def taskmanager(self, resource_id: str) -> ServiceStatus:
        """The stack's one TaskManager: whatever ``resource_id`` Flink gave it, it runs
        every task."""
        found = self.status().service("flink-taskmanager")
        if found.pid is None:
            raise StackNotRunningError("the embedded stack's TaskManager is not running")
        return found

    def status(self) -> StackStatus:
        ep = self.endpoints()
        slots = self.task_slots()
        checks: dict[str, Callable[[], bool]] = {
            "kafka": lambda: kafka_broker.broker_healthy(ep.bootstrap_servers),
            "flink-jobmanager": lambda: flink_cluster.jobmanager_healthy(ep.flink_rest_url),
            "flink-taskmanager": lambda: flink_cluster.taskmanager_healthy(
                ep.flink_rest_url, slots
            ),
        }
        addresses = {
            "kafka": ep.bootstrap_servers,
            "flink-jobmanager": ep.flink_rest_url,
            "flink-taskmanager": f"{HOST} ({slots} slots)",
        }
        services = []
        for service in SERVICES:
            record = self.processes.live_record(service)
            state = (
                "stopped" if record is None else ("running" if checks[service]() else "unhealthy")
            )
            services.append(
                ServiceStatus(
                    service,
                    state,
                    addresses[service],
                    web_ui=ep.flink_rest_url if service == "flink-jobmanager" and record else "",
                    pid=record.pid if record else None,
                    log_file=str(self.log_file(service)),
                )
            )
        catalog = CatalogLocation(self.settings.catalog_name, self.layout.catalog_db,
                                  self.layout.warehouse)  # fmt: skip
        tables = catalog_table_count(catalog)
        services.append(
            ServiceStatus(
                CATALOG,
                "missing" if tables is None else "ready",
                catalog.sqlalchemy_uri,
                detail=f"warehouse {catalog.warehouse}"
                + (f", {tables} tables" if tables is not None else ""),
            )
        )
        return StackStatus(str(self.layout.home), services)

    def log_file(self, service: str) -> Path:
        if service not in SERVICES:
            raise UnknownServiceError(
                f"unknown service {service!r}; the stack has: {', '.join(SERVICES)}"
            )
        if service.startswith("flink-"):
            return flink_cluster.flink_log_file(self.layout, service) or self.layout.console_log(
                service
            )
        return self.layout.console_log(service)

    def logs(self, service: str, lines: int = 50) -> str:
        """The last ``lines`` lines of a service's log."""
        return last_lines(self.log_file(service), lines)
