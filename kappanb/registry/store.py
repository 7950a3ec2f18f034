"""The registry: one SQLite file in the kappanb home, shared by every kernel and the CLI.

Each write is one transaction (``BEGIN IMMEDIATE``), so two notebooks defining the
same job cannot both create ``v3``, and a failed step leaves no half-written row.
Commands that check and then act on Flink (replay, promote, ...) hold their job's lock
(`job_lock`) across both, so two notebooks cannot act on one job at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kappanb.core.schema import Column
from kappanb.exceptions import PromoteError, RunNotFoundError
from kappanb.registry.kinds import RunState, SwitchKind, job_kind, run_mode, run_state, switch_kind
from kappanb.registry.locks import job_lock
from kappanb.registry.records import JobVersion, RunRecord, Switch, TopicSpec

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY, spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    job TEXT NOT NULL, version INTEGER NOT NULL, digest TEXT NOT NULL, spec TEXT NOT NULL,
    PRIMARY KEY (job, version)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, version INTEGER NOT NULL,
    "table" TEXT NOT NULL, spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS switches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, from_version INTEGER,
    to_version INTEGER NOT NULL, "table" TEXT NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL,
    reason TEXT NOT NULL, forced INTEGER NOT NULL
);
"""


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Registry:
    """Topics, job versions and runs of one kappanb home."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)  # idempotent; commits on its own
        finally:
            conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
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

    @contextmanager
    def job_lock(self, job: str, command: str) -> Iterator[None]:
        """Hold ``job``'s lock while ``command`` checks and acts (see `registry.locks`);
        raises `JobBusyError` at once when another command holds it."""
        with job_lock(self.path.parent / "locks", job, command):
            yield

    # ---- topics --------------------------------------------------------------------
    def put_topic(self, topic: TopicSpec) -> TopicSpec:
        """Record (or replace) a topic; stamps its creation time unless it has one."""
        stored = replace(topic, created_at=topic.created_at or now())
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO topics VALUES (?, ?)",
                (topic.name, json.dumps(asdict(stored))),
            )
        return stored

    def topics(self) -> list[TopicSpec]:
        with self._tx() as conn:
            rows = conn.execute("SELECT spec FROM topics ORDER BY name").fetchall()
        return [_topic(json.loads(r[0])) for r in rows]

    # ---- versions ------------------------------------------------------------------
    def add_version(self, draft: JobVersion) -> tuple[JobVersion, bool]:
        """Record ``draft`` as the next version unless one has the same digest.

        Returns the version (new or existing) and whether it was created.
        """
        with self._tx() as conn:
            row = conn.execute(
                "SELECT spec FROM versions WHERE job = ? AND digest = ?", (draft.job, draft.digest)
            ).fetchone()
            if row:
                return _version(json.loads(row[0])), False
            (last,) = conn.execute(
                "SELECT coalesce(max(version), 0) FROM versions WHERE job = ?", (draft.job,)
            ).fetchone()
            data = {**asdict(draft), "version": last + 1, "created_at": now()}
            conn.execute(
                "INSERT INTO versions VALUES (?, ?, ?, ?)",
                (draft.job, last + 1, draft.digest, json.dumps(data)),
            )
        return _version(data), True

    def versions(self, job: str | None = None) -> list[JobVersion]:
        query = "SELECT spec FROM versions"
        args: tuple[str, ...] = ()
        if job is not None:
            query, args = query + " WHERE job = ?", (job,)
        with self._tx() as conn:
            rows = conn.execute(query + " ORDER BY job, version", args).fetchall()
        return [_version(json.loads(r[0])) for r in rows]

    # ---- runs ----------------------------------------------------------------------
    def add_run(self, run: RunRecord) -> RunRecord:
        data = asdict(run)
        with self._tx() as conn:
            cur = conn.execute(
                'INSERT INTO runs (job, version, "table", spec) VALUES (?, ?, ?, ?)',
                (run.job, run.version, run.table, "{}"),
            )
            data["id"] = int(cur.lastrowid or 0)
            conn.execute("UPDATE runs SET spec = ? WHERE id = ?", (json.dumps(data), data["id"]))
        return _run(data)

    def delete_run(self, run_id: int) -> None:
        """Forget a run whose submission failed (its id was reserved beforehand)."""
        with self._tx() as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def update_run(
        self, run_id: int, *, if_flink_job: str | None = None, state: RunState | None = None,
        **changes: Any,
    ) -> RunRecord:  # fmt: skip
        """Change a run; with ``if_flink_job``, only while it still has that Flink job.

        (Another kernel may have resumed it as a new Flink job in the meantime.)
        """
        if state is not None:
            changes["state"] = state
        with self._tx() as conn:
            row = conn.execute("SELECT spec FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunNotFoundError(f"the registry has no run #{run_id}")
            current = json.loads(row[0])
            if if_flink_job is not None and current["flink_job_id"] != if_flink_job:
                return _run(current)
            if {"id", "job", "version", "table"} & changes.keys():
                raise ValueError("a run's id, job, version and table never change")
            data = {**json.loads(row[0]), **changes}
            conn.execute("UPDATE runs SET spec = ? WHERE id = ?", (json.dumps(data), run_id))
        return _run(data)

    def runs(self, job: str | None = None, version: int | None = None) -> list[RunRecord]:
        query, args = "SELECT spec FROM runs WHERE 1 = 1", list[object]()
        if job is not None:
            query, args = query + " AND job = ?", [job]
        if version is not None:
            query, args = query + " AND version = ?", [*args, version]
        with self._tx() as conn:
            rows = conn.execute(query + " ORDER BY id", args).fetchall()
        return [_run(json.loads(r[0])) for r in rows]

    # ---- the serving alias -----------------------------------------------------------
    def switch(
        self, job: str, to_version: int, table: str, *, kind: SwitchKind, expect_from: int | None,
        reason: str = "", forced: bool = False, also: Callable[[], None] | None = None,
    ) -> Switch:  # fmt: skip
        """Point ``job``'s alias at ``to_version`` in one transaction.

        Refuses when the alias no longer points where the caller checked (``expect_from``):
        another notebook switched it meanwhile. ``also`` runs inside the transaction (the
        catalog's mirror of the alias); if it fails, nothing is switched.
        """
        with self._tx() as conn:
            current = _current(conn, job)
            if (current.to_version if current else None) != expect_from:
                now_at = f"v{current.to_version}" if current else "nothing"
                raise PromoteError(
                    f"{job}'s serving alias changed meanwhile (it now points at {now_at}); "
                    "look at `history` and try again"
                )
            at = now()
            cur = conn.execute(
                'INSERT INTO switches (job, from_version, to_version, "table", at, kind, reason, '
                "forced) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job, expect_from, to_version, table, at, kind, reason, int(forced)),
            )
            if also is not None:
                also()
        return Switch(int(cur.lastrowid or 0), job, expect_from, to_version, table, at, kind,
                      reason, forced)  # fmt: skip

    def serving(self, job: str) -> Switch | None:
        """The switch in force: which version (and table) the alias points at now."""
        with self._tx() as conn:
            return _current(conn, job)

    def switches(self, job: str) -> list[Switch]:
        with self._tx() as conn:
            rows = conn.execute(
                f"SELECT {_SWITCH_COLUMNS} FROM switches WHERE job = ? ORDER BY id", (job,)
            ).fetchall()
        return [_switch(r) for r in rows]


_SWITCH_COLUMNS = 'id, job, from_version, to_version, "table", at, kind, reason, forced'


def _current(conn: sqlite3.Connection, job: str) -> Switch | None:
    row = conn.execute(
        f"SELECT {_SWITCH_COLUMNS} FROM switches WHERE job = ? ORDER BY id DESC LIMIT 1", (job,)
    ).fetchone()
    return _switch(row) if row else None


def _switch(row: tuple[Any, ...]) -> Switch:
    id_, job, from_version, to_version, table, at, kind, reason, forced = row
    return Switch(
        id_, job, from_version, to_version, table, at, switch_kind(kind), reason, bool(forced)
    )


def _columns(raw: list[dict[str, str]]) -> tuple[Column, ...]:
    return tuple(Column(**c) for c in raw)


def _topic(data: dict[str, Any]) -> TopicSpec:
    # Topics recorded before the malformed-event policy existed: compacted ones keep
    # failing fast (upsert-kafka has no dead-letter route), the others get the default.
    policy = data.get("on_malformed") or ("fail" if data.get("compact") else "dlq")
    return TopicSpec(**{**data, "columns": _columns(data["columns"]), "on_malformed": policy})


def _version(data: dict[str, Any]) -> JobVersion:
    return JobVersion(
        **{
            **data,
            "kind": job_kind(data["kind"]),
            "output": _columns(data["output"]),
            "key": tuple(data["key"]),
            "sources": tuple(data["sources"]),
        }
    )


def _run(data: dict[str, Any]) -> RunRecord:
    return RunRecord(**{**data, "mode": run_mode(data["mode"]), "state": run_state(data["state"])})
