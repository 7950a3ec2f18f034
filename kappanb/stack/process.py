"""A service process started by kappanb, tracked by a pid file it can trust.

A pid alone is not an identity (pids are reused), and neither is psutil's create time:
on Linux it is the boot time plus the start in clock ticks, and the boot time psutil
reads moves when the wall clock steps (NTP, a laptop waking up; 15-18 s seen). So the
pid file records what does not move: on Linux the boot id and the start time in clock
ticks since boot (field 22 of ``/proc/<pid>/stat``). Where there is no ``/proc``, and for
pid files written before these fields, a process is ours when its create time is within
a generous tolerance and its command line holds the ``marks`` the caller gave (the
service's main class and this home's config file).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import psutil

CLOCK_STEP_TOLERANCE = 24 * 3600.0
"""How far create times may differ when the command line confirms the process (seconds)."""
STRICT_TOLERANCE = 1.0
"""How far they may differ when nothing else confirms it (old pid files without marks)."""
_PROC = Path("/proc")
START_MARKER = "--- kappanb starting"
"""Begins the line start_process writes into a service's log before each start."""


@dataclass(frozen=True)
class PidRecord:
    """What a pid file holds. The last three fields are absent from older pid files."""

    service: str
    pid: int
    create_time: float
    started_at: float
    log_file: str
    start_ticks: int | None = None
    boot_id: str | None = None
    marks: tuple[str, ...] = ()

    def matches_live_process(self) -> bool:
        """True when the pid is alive, not a zombie, and is the process we started."""
        try:
            proc = psutil.Process(self.pid)
            if proc.status() == psutil.STATUS_ZOMBIE and not threads_outlive(self.pid):
                _reap(self.pid)
                return False
            ticks = start_ticks(self.pid)
            if self.start_ticks is not None and ticks is not None:
                return ticks == self.start_ticks and self.boot_id in (None, boot_id())
            drift = abs(proc.create_time() - self.create_time)
            if self.marks:
                return drift < CLOCK_STEP_TOLERANCE and has_marks(proc, self.marks)
            return drift < STRICT_TOLERANCE
        except psutil.Error:
            return False


def start_ticks(pid: int) -> int | None:
    """The process's start in clock ticks since boot, or None without a readable /proc."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    after_name = stat.rpartition(")")[2].split()
    try:
        return int(after_name[19])  # field 22 overall; field 3 is after_name[0]
    except (IndexError, ValueError):
        return None


def threads_left(pid: int) -> bool:
    """True when a process shown as a zombie still has threads running: a JVM whose main
    thread ended before its others (it is gone only when the last one is)."""
    try:
        return any(task != str(pid) for task in os.listdir(_PROC / str(pid) / "task"))
    except OSError:
        return False


ZOMBIE_GRACE = 10.0
"""Seconds a zombie's threads get to end before it counts as running (`threads_outlive`)."""


def threads_outlive(pid: int, seconds: float | None = None) -> bool:
    """True when a zombie's other threads still run ``seconds`` later: a JVM whose main
    thread ended. A JVM killed with -9 also shows as a zombie with threads for a moment,
    while the kernel takes its threads and memory down (seconds for a large heap): `up`
    right after such a kill saw a live TaskManager and started none."""
    deadline = time.monotonic() + (ZOMBIE_GRACE if seconds is None else seconds)
    while threads_left(pid):
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.1)
    return False


def boot_id() -> str | None:
    """This boot's id (Linux), so that start ticks of an earlier boot never match."""
    try:
        return (_PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    except OSError:
        return None


def has_marks(proc: psutil.Process, marks: Sequence[str]) -> bool:
    """True when every mark is one of the process's command-line arguments."""
    try:
        return set(marks) <= set(proc.cmdline())
    except psutil.Error:
        return False


def find_by_marks(marks: Sequence[str]) -> list[int]:
    """Pids of session leaders whose command line holds every mark: a service of a home
    whose pid file was lost. (Its children, e.g. Python workers, are not leaders.)"""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if set(marks) <= set(cmdline):
            with contextlib.suppress(OSError):
                if os.getsid(proc.pid) == proc.pid:
                    found.append(proc.pid)
    return found


def record_for(service: str, pid: int, log_file: Path, marks: Sequence[str]) -> PidRecord:
    """A pid record for a running process (one just started, or one found by its marks)."""
    try:
        create_time = psutil.Process(pid).create_time()
    except psutil.Error:
        create_time = time.time()
    return PidRecord(
        service,
        pid,
        create_time,
        time.time(),
        str(log_file),
        start_ticks=start_ticks(pid),
        boot_id=boot_id(),
        marks=tuple(marks),
    )


def read_pid_file(path: Path) -> PidRecord | None:
    """The record in ``path``, or None when absent or unreadable."""
    try:
        data = json.loads(path.read_text())
        known = {f.name for f in fields(PidRecord)}
        data = {k: v for k, v in data.items() if k in known}
        data["marks"] = tuple(data.get("marks", ()))
        return PidRecord(**data)
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def write_pid_file(path: Path, record: PidRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record)))
    tmp.replace(path)


def start_process(
    service: str,
    argv: Sequence[str],
    *,
    pid_file: Path,
    log_file: Path,
    env: Mapping[str, str],
    cwd: Path,
    marks: Sequence[str] = (),
) -> PidRecord:
    """Start ``argv`` in its own session, output appended to ``log_file``; write the pid file.

    ``marks`` are arguments the running process's command line will hold (after any
    ``exec`` of a start script): they identify it where start ticks cannot."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        log.write(f"\n{START_MARKER} {service} at {time.ctime()} ---\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    record = record_for(service, proc.pid, log_file, marks)
    wait_for_arguments(proc.pid, EXEC_SETTLE_S)
    write_pid_file(pid_file, record)
    return record


EXEC_SETTLE_S = 5.0


def wait_for_arguments(pid: int, timeout: float) -> bool:
    """Wait until a process just started reads back a command line; False if it never did
    (it ended, or ``timeout`` passed). The process is not reaped.

    `Popen` returns once the child's `exec` has passed its point of no return, which on
    Linux comes before the new program's arguments are in place: for a moment
    /proc/PID/cmdline reads empty (seen on a loaded machine), and a check of the service's
    marks right after `up` would call it "not running"."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return False
            if proc.cmdline():
                return True
        except psutil.Error:
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def stop_process(record: PidRecord, timeout: float) -> str:
    """Stop the process group we started: SIGTERM, then SIGKILL after ``timeout``.

    Returns how it ended: "stopped", "killed" or "not running".
    """
    if not record.matches_live_process():
        return "not running"
    group = _group_members(record.pid)
    _signal_group(record.pid, signal.SIGTERM)
    if _wait_gone(record, timeout) and _members_gone(group, timeout):
        return "stopped"
    _signal_group(record.pid, signal.SIGKILL)
    for member in group:  # one that left the group (setsid) still goes with its service
        with contextlib.suppress(psutil.Error):
            member.kill()
    _wait_gone(record, 10.0)
    _members_gone(group, 10.0)
    return "killed"


def _group_members(pid: int) -> list[psutil.Process]:
    """The leader's descendants: they get its signal and must be gone before it counts as
    stopped (a shell's child can outlive the shell by a moment)."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _members_gone(members: list[psutil.Process], timeout: float) -> bool:
    """True once every member has ended (a zombie counts as ended: an orphan's may wait for
    a parent that never reaps it)."""
    deadline = time.monotonic() + timeout
    while any(_still_running(p) for p in members):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _still_running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # start_new_session made the service the leader of its own process group.
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _wait_gone(record: PidRecord, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(record.pid)
        if not record.matches_live_process():
            return True
        time.sleep(0.2)
    return False


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our child (a kernel that ran `up`)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
