"""One command at a time per job, across threads and processes; a dead holder frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kappanb.exceptions import InvalidNameError, JobBusyError
from kappanb.registry.store import LocalRegistry

pytestmark = pytest.mark.faults

_HOLD = """
import sys, time
from pathlib import Path
from kappanb.registry.store import LocalRegistry
with LocalRegistry(Path(sys.argv[1])).job_lock("counts", "replay counts v2"):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(db: Path) -> subprocess.Popen[str]:
    """Another process (another notebook's kernel) holding the lock of job `counts`."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(db)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_command_on_the_job_is_refused_at_once_and_told_who(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "registry.db")
    with registry.job_lock("counts", "promote counts v2"):
        with pytest.raises(JobBusyError) as refused, registry.job_lock("counts", "replay counts"):
            pass
        with registry.job_lock("other", "replay other v1"):  # other jobs are not held up
            pass
    message = str(refused.value)
    assert "another command is changing job counts right now" in message
    assert f"`promote counts v2`, pid {os.getpid()}" in message
    assert "`replay counts` was not started" in message
    assert "wait for it to finish, look at `status counts`, then try again" in message
    with registry.job_lock("counts", "replay counts"):  # released: free again
        pass


def test_threads_of_one_process_exclude_each_other(tmp_path: Path) -> None:
    registry, inside, leave = LocalRegistry(tmp_path / "r.db"), threading.Event(), threading.Event()

    def first() -> None:
        with registry.job_lock("counts", "replay counts v2"):
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(10)
        again = LocalRegistry(tmp_path / "r.db")
        with pytest.raises(JobBusyError, match="replay counts v2"), again.job_lock("counts", "x"):
            pass
    finally:
        leave.set()
        thread.join()


def test_another_process_holds_it_and_a_killed_holder_frees_it(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    LocalRegistry(db)
    holder = _holder(db)
    try:
        busy = pytest.raises(JobBusyError, match=f"pid {holder.pid}")
        with busy, LocalRegistry(db).job_lock("counts", "promote counts v2"):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)  # a crashed kernel: it never lets go itself
        holder.wait(10)
    with LocalRegistry(db).job_lock("counts", "promote counts v2"):
        pass


@pytest.mark.parametrize("job", ["../escape", "a/b", "x y", ""])
def test_the_lock_file_name_is_a_checked_job_name(tmp_path: Path, job: str) -> None:
    with pytest.raises(InvalidNameError), LocalRegistry(tmp_path / "r.db").job_lock(job, "stop"):
        pass
    assert not list(tmp_path.rglob("*.lock"))


def test_a_job_recorded_before_the_reserved_word_rule_can_still_be_locked(tmp_path: Path) -> None:
    with LocalRegistry(tmp_path / "r.db").job_lock("day", "promote day v2"):
        assert (tmp_path / "locks" / "day.lock").is_file()
