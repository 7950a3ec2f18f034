"""One command at a time per job: a lock file per job next to the registry.

Commands that change a job's runs or its serving alias (run, replay, stop, resume,
promote, rollback, retire) check the registry and then act on Flink and the catalog;
two notebooks doing that for the same job at once could both submit a replay into
the same table. Each such command holds its job's lock from its first check to its
last write, and a second command on the same job is refused at once.

The lock is ``flock`` on ``locks/JOB.lock``: the kernel releases it when its holder's
file is closed or its process dies (a crashed kernel never blocks a job), and it works
between threads too (each holder opens the file itself). The holder writes what it is
doing into the file, so the refusal can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from kappanb.core.names import JOB_NAME, check_job_name
from kappanb.exceptions import JobBusyError


def lock_path(locks_dir: Path, job: str) -> Path:
    """The lock file of ``job``, whose name becomes part of a path: it must have the shape
    of a job name (a job recorded before a name rule was added, say a reserved word,
    keeps working)."""
    if not JOB_NAME.fullmatch(job):
        check_job_name(job)  # raises, saying what a job name may be
    return locks_dir / f"{job}.lock"


@contextmanager
def job_lock(locks_dir: Path, job: str, command: str) -> Iterator[None]:
    """Hold ``job``'s lock while ``command`` runs; refuse at once if another command has it."""
    path = lock_path(locks_dir, job)
    locks_dir.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another command"
            raise JobBusyError(
                f"another command is changing job {job} right now ({holder}), so `{command}` "
                f"was not started; wait for it to finish, look at `status {job}`, then try "
                "again"
            ) from None
        try:
            fh.seek(0)
            fh.truncate()
            since = f"{datetime.now(UTC):%H:%M:%S} UTC"
            fh.write(f"`{command}`, pid {os.getpid()} on {socket.gethostname()}, since {since}")
            fh.flush()
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh, fcntl.LOCK_UN)
