"""The processes of one kappanb home: their pid files, finding them without one, and the
home's lock that keeps two commands from changing the stack at once.

A service is identified by its pid file's record (`kappanb.stack.process`) or, when that
is lost, by the arguments only this home's service has on its command line (its marks).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from kappanb.exceptions import StackBusyError
from kappanb.stack import flink_cluster, kafka_broker
from kappanb.stack.layout import SERVICES, HomeLayout
from kappanb.stack.process import (
    PidRecord,
    boot_id,
    find_by_marks,
    read_pid_file,
    record_for,
    start_ticks,
    write_pid_file,
)

Say = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


class HomeProcesses:
    """The services' processes of the home ``layout`` describes."""

    def __init__(self, layout: HomeLayout, start_timeout: float) -> None:
        self.layout, self.start_timeout = layout, start_timeout

    def marks(self, service: str) -> tuple[str, ...]:
        """Arguments only this home's ``service`` has on its command line."""
        if service == "kafka":
            return (kafka_broker.MAIN_CLASS, str(self.layout.kafka_properties))
        return (flink_cluster.MAIN_CLASSES[service], str(self.layout.flink_conf))

    def record(self, service: str) -> PidRecord | None:
        """The pid file's record; one written before marks were recorded gets them here."""
        record = read_pid_file(self.layout.pid_file(service))
        if record and not record.marks:
            return replace(record, marks=self.marks(service))
        return record

    def running(self, service: str) -> list[PidRecord]:
        """Every running ``service`` of this home: the pid file's, then any without one."""
        record = self.record(service)
        live = [record] if record and record.matches_live_process() else []
        log, marks = self.layout.console_log(service), self.marks(service)
        others = [pid for pid in find_by_marks(marks) if pid not in {r.pid for r in live}]
        return live + [record_for(service, pid, log, marks) for pid in others]

    def live_record(self, service: str) -> PidRecord | None:
        record = self.record(service)
        if record and record.matches_live_process():
            return record
        found = self.running(service)
        return found[0] if found else None

    def refresh_pid_files(self) -> list[str]:
        """Before `up` decides what to start: drop pid files of processes that are gone,
        track again a service of this home running without one (an older kappanb lost
        it), and give older pid files today's identity fields."""
        notes = []
        for service in SERVICES:
            pid_file, record = self.layout.pid_file(service), self.record(service)
            if record and record.matches_live_process():
                if record.start_ticks is None:
                    ticks = start_ticks(record.pid)
                    write_pid_file(pid_file, replace(record, start_ticks=ticks, boot_id=boot_id()))
                continue
            if pid_file.exists():
                pid_file.unlink()
                pid = record.pid if record else "?"
                notes.append(f"{service}: removed a stale pid file (pid {pid} is not running)")
            found = self.running(service)
            if found:
                write_pid_file(pid_file, found[0])
                notes.append(
                    f"{service}: pid {found[0].pid} of this home was running without a pid "
                    "file; kappanb tracks it again"
                    + (" (more run beside it: `kappanb down` stops them all)" if found[1:] else "")
                )
        return notes

    @contextlib.contextmanager
    def locked(self, action: str, say: Say = _quiet) -> Iterator[None]:
        """Hold the home's lock for ``action``. Another command changing the stack makes
        this one fail at once, except that an `up` waits for an `up` already under way
        (a notebook's `%kappa up` while a start script brings the stack up) and then
        finds the stack running."""
        self.layout.run_dir.mkdir(parents=True, exist_ok=True)
        with self.layout.lock_file.open("a+") as fh:
            deadline, told = time.monotonic() + self.start_timeout, False
            unnamed_until = time.monotonic() + 2.0
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    fh.seek(0)
                    holder = fh.read().strip()
                    if not holder and time.monotonic() < unnamed_until:
                        time.sleep(0.1)  # the holder names itself just after locking
                        continue
                    holder = holder or "another process"
                    same = holder.endswith(f"running {action}") and action == "up"
                    if not same or time.monotonic() > deadline:
                        raise StackBusyError(
                            f"another kappanb command ({holder}) is changing the stack in "
                            f"{self.layout.home}; wait for it to finish, then try `{action}` "
                            "again."
                        ) from None
                    if not told:
                        say(f"waiting for another `up` ({holder}) to finish ...")
                        told = True
                    time.sleep(0.5)
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} running {action}")
            fh.flush()
            try:
                yield
            finally:
                fh.seek(0)
                fh.truncate()
