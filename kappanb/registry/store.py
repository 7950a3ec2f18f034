"""The local registry: one SQLite file in the kappanb home, shared by every kernel and the
CLI on this machine.

Each write is one transaction (``BEGIN IMMEDIATE``), so two notebooks defining the
same job cannot both create ``v3``, and a failed step leaves no half-written row.
Commands that check and then act on Flink (replay, promote, ...) hold their job's lock
(`job_lock`) across both, so two notebooks cannot act on one job at once. The rules of
each change are in `registry.tables`, shared with the cluster's registry.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kappanb.registry import removals, tables
from kappanb.registry.base import now_ms, time_text
from kappanb.registry.kinds import RunState, SwitchKind
from kappanb.registry.locks import job_lock
from kappanb.registry.records import JobVersion, Removal, RunRecord, Switch, TopicSpec


def open_sqlite(path: Path, schema: str) -> None:
    """Create ``path`` (and its folder) with ``schema``, in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(schema)  # idempotent; commits on its own
    finally:
        conn.close()


@contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction on ``path``: committed, or rolled back on error."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


class LocalRegistry:
    """Topics, job versions and runs of one kappanb home, in a SQLite file."""

    def __init__(self, path: Path, clock: Callable[[], int] = now_ms) -> None:
        self._path = path
        self.clock = clock
        """Milliseconds since the epoch: this machine's clock, read at each change (never
        smoothed: a clock set back makes a removal wait longer, not less)."""
        open_sqlite(path, tables.SCHEMA + removals.SCHEMA)

    def _now(self) -> str:
        return time_text(self.clock())

    @property
    def path(self) -> Path:
        return self._path

    @contextmanager
    def job_lock(self, job: str, command: str) -> Iterator[None]:
        """Hold ``job``'s lock while ``command`` checks and acts (see `registry.locks`);
        raises `JobBusyError` at once when another command holds it."""
        with job_lock(self.path.parent / "locks", job, command):
            yield

    def put_topic(self, topic: TopicSpec) -> TopicSpec:
        with transaction(self.path) as conn:
            return tables.put_topic(conn, topic, self._now())

    def topics(self) -> list[TopicSpec]:
        with transaction(self.path) as conn:
            return tables.topics(conn)

    def add_version(self, draft: JobVersion) -> tuple[JobVersion, bool]:
        with transaction(self.path) as conn:
            return tables.add_version(conn, draft, self._now())

    def versions(self, job: str | None = None) -> list[JobVersion]:
        with transaction(self.path) as conn:
            return tables.versions(conn, job)

    def add_run(self, run: RunRecord) -> RunRecord:
        with transaction(self.path) as conn:
            return tables.add_run(conn, run)

    def delete_run(self, run_id: int) -> None:
        with transaction(self.path) as conn:
            tables.delete_run(conn, run_id)

    def update_run(
        self, run_id: int, *, if_flink_job: str | None = None, state: RunState | None = None,
        **changes: Any,
    ) -> RunRecord:  # fmt: skip
        """Change a run; with ``if_flink_job``, only while it still has that Flink job.

        (Another kernel may have resumed it as a new Flink job in the meantime.)
        """
        if state is not None:
            changes["state"] = state
        with transaction(self.path) as conn:
            return tables.update_run(conn, run_id, if_flink_job, changes)

    def runs(self, job: str | None = None, version: int | None = None) -> list[RunRecord]:
        with transaction(self.path) as conn:
            return tables.runs(conn, job, version)

    def switch(
        self, job: str, to_version: int, table: str, *, kind: SwitchKind, expect_from: int | None,
        reason: str = "", forced: bool = False, also: Callable[[], None] | None = None,
    ) -> Switch:  # fmt: skip
        """Point ``job``'s alias at ``to_version`` in one transaction.

        Refuses when the alias no longer points where the caller checked (``expect_from``):
        another notebook switched it meanwhile. ``also`` runs inside the transaction (the
        catalog's mirror of the alias); if it fails, nothing is switched.
        """
        with transaction(self.path) as conn:
            done = tables.switch(
                conn, job, to_version, table, kind=kind, expect_from=expect_from,
                reason=reason, forced=forced, at=self._now(),
            )  # fmt: skip
            if also is not None:
                also()
        return done

    def serving(self, job: str) -> Switch | None:
        with transaction(self.path) as conn:
            return tables.serving(conn, job)

    def switches(self, job: str) -> list[Switch]:
        with transaction(self.path) as conn:
            return tables.switches(conn, job)

    # ---- removals of retired tables -------------------------------------------------
    def schedule_removal(self, job: str, version: int, table: str, after_ms: int) -> Removal:
        with transaction(self.path) as conn:
            return removals.schedule(conn, job, version, table, after_ms, self.clock())

    def removals(self, job: str | None = None) -> list[Removal]:
        with transaction(self.path) as conn:
            return removals.removals(conn, job)

    def due_removals(self) -> list[Removal]:
        with transaction(self.path) as conn:
            pending = removals.removals(conn, None, pending=True)
        now = self.clock()
        return [r for r in pending if r.due_ms <= now]

    def claim_removal(self, removal_id: int) -> Removal:
        with transaction(self.path) as conn:
            return removals.claim(conn, removal_id, self.clock())

    def finish_removal(self, removal_id: int) -> Removal:
        with transaction(self.path) as conn:
            return removals.finish(conn, removal_id, self.clock())
