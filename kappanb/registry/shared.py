"""The registry of a cluster: a Kafka log every machine reads, materialized here.

Every change is an event appended to the registry's topic (`registry.log`); each process
applies the log, in order, to its cache (`registry.cache`) with `registry.events.apply`.
A change appends its event, reads the log up to and including it, and answers with what
applying its own event gave: two people adding a version at once get v3 and v4 in the
log's order, and a switch whose ``expect_from`` no longer holds is refused for whoever
comes second. A read first catches up to the log's end, so it sees every change already
acknowledged to anyone; when the brokers do not answer, it answers from this machine's
copy as of its last catch-up (what the registry knew here), while every change, and the
check before a switch, needs the log. Job locks are leases on the same log
(`registry.leases`).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from kappanb.core.names import JOB_NAME, check_job_name
from kappanb.exceptions import (
    JobBusyError,
    PromoteError,
    RegistryLogError,
    RegistryUnreachableError,
)
from kappanb.registry import events, removals, tables
from kappanb.registry.base import now_ms
from kappanb.registry.cache import LogCache
from kappanb.registry.kinds import RunState, SwitchKind, removal_state
from kappanb.registry.leases import Holder
from kappanb.registry.log import RegistryLog
from kappanb.registry.records import JobVersion, Removal, RunRecord, Switch, TopicSpec

LEASE_SECONDS = 30.0
"""How long a job's lock outlives its holder's last heartbeat (renewed every third)."""

T = TypeVar("T")


class LogRegistry:
    """Topics, job versions, runs and switches of a cluster, from its registry log."""

    def __init__(self, log: RegistryLog, cache: Path, lease_seconds: float = LEASE_SECONDS):
        self.log, self.cache = log, LogCache(cache)
        self.lease_ms = int(lease_seconds * 1000)
        self._log_id: str | None = None  # found on first use: making a Workbench asks nothing
        self._catching_up = threading.Lock()

    @property
    def path(self) -> Path:
        return self.cache.path

    # ---- the log ---------------------------------------------------------------------
    def _ready(self) -> str:
        """The log's id; on first use, make the topic if it never existed, and start the
        cache afresh when it held another log (the topic was made again)."""
        if self._log_id is not None:
            return self._log_id
        known = self.cache.position()
        found = self.log.topic_id()
        if found is None and known.log_id:
            raise RegistryLogError(
                f"the registry's {self.log.where} is gone, though this machine read it up to "
                f"offset {known.offset} (its cache {self.path}); nothing is recreated in its "
                "place. Restore the topic, or, to start an empty registry on this cluster, "
                "delete the cache file and try again"
            )
        if found is None:
            self.log.create()
            found = self._made()
        self.log.check()
        self.cache.adopt(found)
        self._log_id = found
        return found

    def _made(self) -> str:
        """The id of the topic just made, once the brokers' metadata has it."""
        deadline = time.monotonic() + self.log.timeout
        while (found := self.log.topic_id()) is None:
            if time.monotonic() > deadline:
                raise RegistryLogError(f"the registry's {self.log.where} was not made")
            time.sleep(0.1)
        return found

    def _catch_up(self, through: int | None = None) -> None:
        """Apply the log up to offset ``through`` (default: its end, asked now)."""
        log_id = self._ready()
        with self._catching_up:
            end = self.log.end() if through is None else through + 1
            start = self.cache.position().offset + 1
            if start < end:
                for batch in self.log.read(start, end):
                    self.cache.apply(log_id, batch)

    def _submit(self, op: str, args: dict[str, Any]) -> Any:
        """Append a change, apply the log through it, and answer what it gave."""
        self._ready()
        offset = self.log.append(events.encode(op, args))
        self._catch_up(offset)
        outcome = self.cache.outcome(offset)
        if outcome is None:
            raise RegistryLogError(f"event {offset} of the registry's {self.log.where} was "
                                   "written but not read back")  # fmt: skip
        events.raise_refusal(outcome)
        return outcome["ok"]

    def _query(self, query: Callable[[Any], T]) -> T:
        """``query`` on the cache caught up with the log, or as it is if Kafka is away."""
        with contextlib.suppress(RegistryUnreachableError):
            self._catch_up()
        return self.cache.read(query)

    # ---- job locks -------------------------------------------------------------------
    @contextmanager
    def job_lock(self, job: str, command: str) -> Iterator[None]:
        """Hold ``job``'s lease while ``command`` runs (see `registry.leases`); refuse at
        once, naming the holder, when another command on any machine holds it."""
        if not JOB_NAME.fullmatch(job):
            check_job_name(job)  # raises, saying what a job name may be
        holder = Holder(uuid.uuid4().hex, command, _user(), socket.gethostname(), os.getpid())
        answer = self._submit(
            "acquire", {"job": job, "holder": vars(holder), "lease_ms": self.lease_ms}
        )
        if not answer["granted"]:
            raise JobBusyError(
                f"another command is changing job {job} right now ({answer['busy']}), so "
                f"`{command}` was not started; wait for it to finish, look at `status {job}`, "
                "then try again"
            )
        heartbeat = Heartbeat(self.log, job, holder.token, self.lease_ms / 3000)
        try:
            yield
        finally:
            heartbeat.stop()
            with contextlib.suppress(RegistryLogError):  # unreachable: the lease runs out
                self.log.append(events.encode("release", {"job": job, "token": holder.token}))

    # ---- topics, versions, runs --------------------------------------------------------
    def put_topic(self, topic: TopicSpec) -> TopicSpec:
        return tables.topic_of(self._submit("put_topic", {"topic": asdict(topic)}))

    def topics(self) -> list[TopicSpec]:
        return self._query(tables.topics)

    def add_version(self, draft: JobVersion) -> tuple[JobVersion, bool]:
        answer = self._submit("add_version", {"draft": asdict(draft)})
        return tables.version_of(answer["version"]), bool(answer["created"])

    def versions(self, job: str | None = None) -> list[JobVersion]:
        return self._query(lambda conn: tables.versions(conn, job))

    def add_run(self, run: RunRecord) -> RunRecord:
        return tables.run_of(self._submit("add_run", {"run": asdict(run)}))

    def delete_run(self, run_id: int) -> None:
        self._submit("delete_run", {"id": run_id})

    def update_run(
        self, run_id: int, *, if_flink_job: str | None = None, state: RunState | None = None,
        **changes: Any,
    ) -> RunRecord:  # fmt: skip
        if state is not None:
            changes["state"] = state
        args = {"id": run_id, "if_flink_job": if_flink_job, "changes": changes}
        return tables.run_of(self._submit("update_run", args))

    def runs(self, job: str | None = None, version: int | None = None) -> list[RunRecord]:
        return self._query(lambda conn: tables.runs(conn, job, version))

    # ---- the serving alias -----------------------------------------------------------
    def switch(
        self, job: str, to_version: int, table: str, *, kind: SwitchKind, expect_from: int | None,
        reason: str = "", forced: bool = False, also: Callable[[], None] | None = None,
    ) -> Switch:  # fmt: skip
        """Point ``job``'s alias at ``to_version``: checked now, then ``also`` (the
        catalog's mirror), then the switch event, checked again where it lands in the log."""
        self._catch_up()  # the check before the catalog's mirror needs the log itself
        tables.check_switch(self.cache.read(lambda c: tables.serving(c, job)), job, expect_from)
        if also is not None:
            also()
        args = {"job": job, "to_version": to_version, "table": table, "kind": kind,
                "expect_from": expect_from, "reason": reason, "forced": forced}  # fmt: skip
        try:
            done = self._submit("switch", args)
        except PromoteError as exc:  # only when the job's lock was lost meanwhile
            raise PromoteError(
                f"{exc} (the catalog's copy of the alias was already set to {table}: "
                f"`history {job}` says which version the registry serves)"
            ) from None
        return Switch(**{**done, "kind": kind})

    def serving(self, job: str) -> Switch | None:
        return self._query(lambda conn: tables.serving(conn, job))

    def switches(self, job: str) -> list[Switch]:
        return self._query(lambda conn: tables.switches(conn, job))

    # ---- removals of retired tables -------------------------------------------------
    def schedule_removal(self, job: str, version: int, table: str, after_ms: int) -> Removal:
        args = {"job": job, "version": version, "table": table, "after_ms": after_ms}
        return _removal(self._submit("schedule_removal", args))

    def removals(self, job: str | None = None) -> list[Removal]:
        return self._query(lambda conn: removals.removals(conn, job))

    def due_removals(self) -> list[Removal]:
        """Those due by the log's clock or this machine's, whichever is later: a guess
        that only saves writing a claim that would change nothing; the claim's broker
        time decides."""
        pending = self._query(lambda conn: removals.removals(conn, None, pending=True))
        now = max(self.cache.position().clock_ms, now_ms())
        return [r for r in pending if r.due_ms <= now]

    def claim_removal(self, removal_id: int) -> Removal:
        return _removal(self._submit("claim_removal", {"id": removal_id}))

    def finish_removal(self, removal_id: int) -> Removal:
        return _removal(self._submit("finish_removal", {"id": removal_id}))


def _removal(data: dict[str, Any]) -> Removal:
    return Removal(**{**data, "state": removal_state(data["state"])})


class Heartbeat:
    """Renews a job's lease every ``every`` seconds until stopped (a daemon thread)."""

    def __init__(self, log: RegistryLog, job: str, token: str, every: float) -> None:
        self._stopped = threading.Event()
        renew = events.encode("renew", {"job": job, "token": token})

        def beat() -> None:
            while not self._stopped.wait(every):
                # Kafka unreachable: try again; the lease may run out meanwhile
                with contextlib.suppress(RegistryLogError):
                    log.append(renew)

        self._thread = threading.Thread(target=beat, name=f"kappanb-lease-{job}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container's passwd
        return str(os.getuid())
