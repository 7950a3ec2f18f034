"""The local cluster's processes: started with a pid file each, found again by the pid
file's identity or by their marks (arguments only this cluster's process has), stopped
only when they are the ones this cluster started (`kappanb.stack.process`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kappanb.cluster import flink_nodes, kafka_nodes, object_store
from kappanb.cluster.layout import KAFKA_NODES, OBJECT_STORE, SERVICES, ClusterLayout
from kappanb.exceptions import UnknownServiceError
from kappanb.stack.home_processes import HomeProcesses
from kappanb.stack.process import (
    PidRecord,
    find_by_marks,
    read_pid_file,
    record_for,
    start_process,
    stop_process,
)

Say = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


class ClusterProcesses:
    """The services' processes of the cluster whose files ``layout`` describes."""

    def __init__(self, layout: ClusterLayout, start_timeout: float) -> None:
        self.layout = layout
        self._home = HomeProcesses(layout.processes, start_timeout)

    def marks(self, service: str) -> tuple[str, ...]:
        if service == OBJECT_STORE:
            return object_store.marks(self.layout)
        for node in KAFKA_NODES:
            if service == f"kafka-{node}":
                return kafka_nodes.marks(self.layout, node)
        if service in SERVICES:
            return flink_nodes.marks(self.layout, service)
        raise UnknownServiceError(
            f"unknown service {service!r}; the local cluster has: {', '.join(SERVICES)}"
        )

    def running(self, service: str) -> list[PidRecord]:
        """Every running ``service`` of this cluster: the pid file's, then any without one."""
        record = read_pid_file(self.layout.pid_file(service))
        live = [record] if record and record.matches_live_process() else []
        marks, log = self.marks(service), self.layout.console_log(service)
        others = [pid for pid in find_by_marks(marks) if pid not in {r.pid for r in live}]
        return live + [record_for(service, pid, log, marks) for pid in others]

    def live(self) -> dict[str, PidRecord]:
        """The running services, by name (one record each)."""
        found = {}
        for service in SERVICES:
            records = self.running(service)
            if records:
                found[service] = records[0]
        return found

    def forget_stale(self) -> list[str]:
        """Remove the pid files of processes that are gone; say so."""
        notes = []
        for service in SERVICES:
            pid_file = self.layout.pid_file(service)
            record = read_pid_file(pid_file)
            if pid_file.exists() and not (record and record.matches_live_process()):
                pid_file.unlink()
                pid = record.pid if record else "?"
                notes.append(f"{service}: removed a stale pid file (pid {pid} is not running)")
        return notes

    def start(self, service: str, argv: Sequence[str], env: Mapping[str, str],
              say: Say = _quiet) -> PidRecord:  # fmt: skip
        say(f"starting {service} ...")
        return start_process(
            service, argv, pid_file=self.layout.pid_file(service),
            log_file=self.layout.console_log(service), env=env, cwd=self.layout.home,
            marks=self.marks(service),
        )  # fmt: skip

    def stop(self, services: Sequence[str], timeout: float, say: Say = _quiet) -> dict[str, str]:
        """Stop ``services`` at once (each: TERM, then KILL after ``timeout``); how each ended."""

        def stop_one(service: str) -> str:
            found = self.running(service)
            ends = []
            for record in found:
                say(f"stopping {service} (pid {record.pid}) ...")
                ends.append(stop_process(record, timeout))
            pid_file = self.layout.pid_file(service)
            if not found:
                ends.append("not running (stale pid file removed)" if pid_file.exists()
                            else "not running")  # fmt: skip
            pid_file.unlink(missing_ok=True)
            more = f" (and {len(ends) - 1} more of this cluster)" if len(ends) > 1 else ""
            return ends[0] + more

        with ThreadPoolExecutor(max_workers=max(1, len(services))) as pool:
            return dict(zip(services, pool.map(stop_one, services), strict=True))

    def pid_file(self, service: str) -> Path:
        return self.layout.pid_file(service)

    @contextlib.contextmanager
    def locked(self, action: str, say: Say = _quiet) -> Iterator[None]:
        """The cluster home's lock (the embedded home's, on the cluster's folder)."""
        with self._home.locked(action, say):
            yield
