from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import psutil
import pytest

from kappanb.stack import process
from kappanb.stack.process import (
    PidRecord,
    find_by_marks,
    read_pid_file,
    start_process,
    start_ticks,
    stop_process,
    wait_for_arguments,
)
from tests.stack.clock import identity_of, shift_boot_time


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
    # This very process is alive, but it started at another moment than the record says:
    # that is what a pid reused after a crash or a reboot looks like.
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
    assert record.start_ticks is not None and forged.start_ticks != start_ticks(me.pid)
    assert not forged.matches_live_process()
    assert replace(forged, start_ticks=start_ticks(me.pid)).matches_live_process()
    earlier_boot = replace(forged, start_ticks=start_ticks(me.pid), boot_id="an earlier boot")
    assert not earlier_boot.matches_live_process()
    assert asdict(forged)["pid"] == me.pid


def test_unreadable_pid_file_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / "bad.pid").write_text("not json")
    assert read_pid_file(tmp_path / "bad.pid") is None
    assert read_pid_file(tmp_path / "absent.pid") is None


def _sleeper(tmp_path: Path) -> PidRecord:
    """A real service stand-in: `sleep 300` in its own session, its arguments as marks."""
    return start_process(
        "sleeper",
        ["sleep", "300"],
        pid_file=tmp_path / "sleeper.pid",
        log_file=tmp_path / "sleeper.log",
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        marks=("sleep", "300"),
    )


def test_pid_file_records_the_start_in_clock_ticks(tmp_path: Path) -> None:
    record = _sleeper(tmp_path)
    try:
        stat = Path(f"/proc/{record.pid}/stat").read_text()
        assert record.start_ticks == int(stat.rpartition(")")[2].split()[19])
        assert record.boot_id == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        assert read_pid_file(tmp_path / "sleeper.pid") == record
    finally:
        stop_process(record, timeout=10)


@pytest.mark.parametrize("step", [18.0, -18.0])
def test_a_clock_step_does_not_lose_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: float
) -> None:
    record = _sleeper(tmp_path)
    try:
        shift_boot_time(monkeypatch, step)
        assert abs(psutil.Process(record.pid).create_time() - record.create_time) >= 17
        assert record.matches_live_process()
        assert stop_process(record, timeout=10) == "stopped"
        assert not psutil.pid_exists(record.pid) or (
            psutil.Process(record.pid).status() == psutil.STATUS_ZOMBIE
        )
    finally:
        stop_process(record, timeout=10)


@pytest.mark.parametrize("step", [18.0, -18.0])
def test_without_proc_the_command_line_confirms_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: float
) -> None:
    # Where there is no /proc (macOS), and for pid files of older kappanb versions
    # (no start ticks), a generous create-time tolerance plus the marks decide.
    record = _sleeper(tmp_path)
    legacy = replace(record, start_ticks=None, boot_id=None)
    try:
        shift_boot_time(monkeypatch, step)
        assert legacy.matches_live_process(), f"{legacy} vs {identity_of(record.pid)}"
        monkeypatch.setattr(process, "start_ticks", lambda _pid: None)
        assert record.matches_live_process()
        assert not replace(record, marks=("sleep", "301")).matches_live_process()
        # No marks at all (a pid file nobody can confirm): only the strict 1 s window.
        assert not replace(legacy, marks=()).matches_live_process()
        assert stop_process(record, timeout=10) == "stopped"
    finally:
        stop_process(record, timeout=10)


def test_pid_files_of_older_versions_are_still_read(tmp_path: Path) -> None:
    old = {"service": "k", "pid": 42, "create_time": 5.0, "started_at": 6.0, "log_file": "l"}
    (tmp_path / "old.pid").write_text(json.dumps(old))
    record = read_pid_file(tmp_path / "old.pid")
    assert record == PidRecord("k", 42, 5.0, 6.0, "l")
    assert record.start_ticks is None and record.marks == ()


def test_find_by_marks_finds_a_session_leader_without_its_pid_file(tmp_path: Path) -> None:
    record = _sleeper(tmp_path)
    try:
        (tmp_path / "sleeper.pid").unlink()
        assert record.pid in find_by_marks(("sleep", "300"))
        assert record.pid not in find_by_marks(("sleep", "300", str(tmp_path)))
    finally:
        stop_process(record, timeout=10)


def test_a_process_whose_main_thread_ended_runs_until_its_last_thread_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JVM stopping: its main thread ends first, so the process shows as a zombie while
    its other threads still run. It is running until the last one ends (once they outlive
    the grace a killed JVM's threads get to go), then reaped."""
    monkeypatch.setattr(process, "ZOMBIE_GRACE", 0.5)
    code = (
        "import ctypes, threading, time\n"
        "threading.Thread(target=time.sleep, args=(2,)).start()\n"
        "ctypes.CDLL(None).pthread_exit(None)\n"
    )
    record = start_process(
        "threads", [sys.executable, "-c", code], pid_file=tmp_path / "t.pid",
        log_file=tmp_path / "t.log", env={}, cwd=tmp_path,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while psutil.Process(record.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the main thread did not end"
        time.sleep(0.05)
    assert process.threads_left(record.pid)
    assert record.matches_live_process()
    while record.matches_live_process():
        assert time.monotonic() < deadline + 5, "the process did not end with its last thread"
        time.sleep(0.05)
    assert not psutil.pid_exists(record.pid)  # reaped, not left a zombie


def test_start_waits_until_the_new_programs_arguments_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Popen returns before exec has put the program's arguments in place: for a moment
    # /proc/PID/cmdline is empty (a loaded machine showed it), and the marks cannot match.
    seen: list[int] = []
    real = psutil.Process.cmdline

    def empty_at_first(proc: psutil.Process) -> list[str]:
        seen.append(proc.pid)
        return [] if len(seen) < 3 else real(proc)

    monkeypatch.setattr(psutil.Process, "cmdline", empty_at_first)
    record = _sleeper(tmp_path)
    try:
        assert len(seen) == 3  # asked until the arguments read back
        assert record.matches_live_process()
    finally:
        stop_process(record, timeout=10)


def test_start_does_not_wait_for_a_program_that_ended() -> None:
    ended = subprocess.Popen(["true"])
    began = time.monotonic()
    while psutil.Process(ended.pid).status() != psutil.STATUS_ZOMBIE:  # ended, not reaped
        assert time.monotonic() - began < 10
    assert not wait_for_arguments(ended.pid, timeout=30)
    assert time.monotonic() - began < 10  # it did not wait the 30 s
    ended.wait()
    assert not wait_for_arguments(ended.pid, timeout=30)  # reaped: gone
