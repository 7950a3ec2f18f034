from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import psutil

from kappanb.stack.process import PidRecord, read_pid_file, start_process, stop_process


def _children_once_started(record: PidRecord) -> list[psutil.Process]:
    """The shell's children, once it has got as far as starting them."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = psutil.Process(record.pid).children(recursive=True)
        if children:
            return children
        time.sleep(0.05)
    raise AssertionError("the shell did not start its child within 10 s")


def test_start_then_stop_the_whole_process_group(tmp_path: Path) -> None:
    # A shell that starts a child: stopping must end both (the group), not just the shell.
    script = "sleep 300 & wait"
    record = start_process(
        "demo",
        ["bash", "-c", script],
        pid_file=tmp_path / "demo.pid",
        log_file=tmp_path / "demo.log",
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert read_pid_file(tmp_path / "demo.pid") == record
    assert record.matches_live_process()
    children = _children_once_started(record)
    assert stop_process(record, timeout=10) == "stopped"
    assert not record.matches_live_process()
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)


def test_process_ignoring_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    code = (
        "import signal, time, pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(300)"
    )
    record = start_process(
        "stubborn",
        [sys.executable, "-c", code],
        pid_file=tmp_path / "s.pid",
        log_file=tmp_path / "s.log",
        env={},
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 10
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stop_process(record, timeout=1) == "killed"
    assert not record.matches_live_process()


def test_dead_pid_is_stale(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid_file = tmp_path / "x.pid"
    pid_file.write_text(
        json.dumps(
            {
                "service": "x",
                "pid": int(proc.stdout),
                "create_time": 1.0,
                "started_at": 1.0,
                "log_file": "",
            }
        )
    )
    record = read_pid_file(pid_file)
    assert record is not None and not record.matches_live_process()


def test_reused_pid_is_not_taken_for_ours(tmp_path: Path) -> None:
    # This very process is alive, but it started at another time than the record says:
    # that is what a pid reused after a reboot looks like.
    me = psutil.Process()
    record = start_process(
        "y",
        ["true"],
        pid_file=tmp_path / "y.pid",
        log_file=tmp_path / "y.log",
        env={},
        cwd=tmp_path,
    )
    forged = replace(record, pid=me.pid, create_time=me.create_time() - 3600)
    assert not forged.matches_live_process()
    assert replace(forged, create_time=me.create_time()).matches_live_process()
    assert asdict(forged)["pid"] == me.pid


def test_unreadable_pid_file_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / "bad.pid").write_text("not json")
    assert read_pid_file(tmp_path / "bad.pid") is None
    assert read_pid_file(tmp_path / "absent.pid") is None
