"""A service process started by kappanb, tracked by a pid file it can trust.

The pid file records the pid, the process group and the process start time, so
that a pid reused after a crash or a reboot is never mistaken for ours.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class PidRecord:
    """What a pid file holds."""

    service: str
    pid: int
    create_time: float
    started_at: float
    log_file: str

    def matches_live_process(self) -> bool:
        """True when the pid is alive, not a zombie, and is the process we started."""
        try:
            proc = psutil.Process(self.pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                _reap(self.pid)
                return False
            return abs(proc.create_time() - self.create_time) < 1.0
        except psutil.Error:
            return False


def read_pid_file(path: Path) -> PidRecord | None:
    """The record in ``path``, or None when absent or unreadable."""
    try:
        data = json.loads(path.read_text())
        return PidRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def start_process(
    service: str,
    argv: Sequence[str],
    *,
    pid_file: Path,
    log_file: Path,
    env: Mapping[str, str],
    cwd: Path,
) -> PidRecord:
    """Start ``argv`` in its own session, output appended to ``log_file``; write the pid file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        log.write(f"\n--- kappanb starting {service} at {time.ctime()} ---\n".encode())
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
    try:
        create_time = psutil.Process(proc.pid).create_time()
    except psutil.Error:
        create_time = time.time()
    record = PidRecord(service, proc.pid, create_time, time.time(), str(log_file))
    tmp = pid_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record)))
    tmp.replace(pid_file)
    return record


def stop_process(record: PidRecord, timeout: float) -> str:
    """Stop the process group we started: SIGTERM, then SIGKILL after ``timeout``.

    Returns how it ended: "stopped", "killed" or "not running".
    """
    if not record.matches_live_process():
        return "not running"
    _signal_group(record.pid, signal.SIGTERM)
    if _wait_gone(record, timeout):
        return "stopped"
    _signal_group(record.pid, signal.SIGKILL)
    _wait_gone(record, 10.0)
    return "killed"


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
