"""The registry's tables and every change to them, on one open SQLite transaction.

Both registries use these functions: the local one (`store.LocalRegistry`) inside its
own ``BEGIN IMMEDIATE`` transaction, the shared one (`shared.LogRegistry`) while it
applies the events of its Kafka log to its cache. So the rules (a digest already known
is not a new version, a run's id comes from the order of inserts, a switch is refused
when the alias moved) are written once. Each change takes its time stamp ``at`` from the
caller: the local registry passes this machine's clock, the log its events' broker time,
so applying the same events gives every machine the same rows.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, replace
from typing import Any

from kappanb.core.schema import Column
from kappanb.exceptions import PromoteError, RunNotFoundError
from kappanb.registry.kinds import SwitchKind, job_kind, run_mode, run_state, switch_kind
from kappanb.registry.records import JobVersion, RunRecord, Switch, TopicSpec

SCHEMA = """
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

# ---- changes ---------------------------------------------------------------------------


def put_topic(conn: sqlite3.Connection, topic: TopicSpec, at: str) -> TopicSpec:
    """Record (or replace) a topic; stamps it with ``at`` unless it has a creation time."""
    stored = replace(topic, created_at=topic.created_at or at)
    conn.execute(
        "INSERT OR REPLACE INTO topics VALUES (?, ?)", (topic.name, json.dumps(asdict(stored)))
    )
    return stored


def add_version(conn: sqlite3.Connection, draft: JobVersion, at: str) -> tuple[JobVersion, bool]:
    """``draft`` as the job's next version, unless a version has its digest already:
    the version (new or existing) and whether it was created."""
    row = conn.execute(
        "SELECT spec FROM versions WHERE job = ? AND digest = ?", (draft.job, draft.digest)
    ).fetchone()
    if row:
        return version_of(json.loads(row[0])), False
    (last,) = conn.execute(
        "SELECT coalesce(max(version), 0) FROM versions WHERE job = ?", (draft.job,)
    ).fetchone()
    data = {**asdict(draft), "version": last + 1, "created_at": at}
    conn.execute(
        "INSERT INTO versions VALUES (?, ?, ?, ?)",
        (draft.job, last + 1, draft.digest, json.dumps(data)),
    )
    return version_of(data), True


def add_run(conn: sqlite3.Connection, run: RunRecord) -> RunRecord:
    """Record ``run`` under the next id (its own ``id`` is ignored)."""
    data = asdict(run)
    cur = conn.execute(
        'INSERT INTO runs (job, version, "table", spec) VALUES (?, ?, ?, ?)',
        (run.job, run.version, run.table, "{}"),
    )
    data["id"] = int(cur.lastrowid or 0)
    conn.execute("UPDATE runs SET spec = ? WHERE id = ?", (json.dumps(data), data["id"]))
    return run_of(data)


def delete_run(conn: sqlite3.Connection, run_id: int) -> None:
    conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))


def check_run_changes(changes: dict[str, Any]) -> None:
    if {"id", "job", "version", "table"} & changes.keys():
        raise ValueError("a run's id, job, version and table never change")


def update_run(
    conn: sqlite3.Connection, run_id: int, if_flink_job: str | None, changes: dict[str, Any]
) -> RunRecord:
    """Change a run; with ``if_flink_job``, only while it still has that Flink job."""
    row = conn.execute("SELECT spec FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise RunNotFoundError(f"the registry has no run #{run_id}")
    current = json.loads(row[0])
    if if_flink_job is not None and current["flink_job_id"] != if_flink_job:
        return run_of(current)
    check_run_changes(changes)
    data = {**current, **changes}
    conn.execute("UPDATE runs SET spec = ? WHERE id = ?", (json.dumps(data), run_id))
    return run_of(data)


def check_switch(current: Switch | None, job: str, expect_from: int | None) -> None:
    """Refuse a switch when the alias no longer points where the caller checked."""
    if (current.to_version if current else None) != expect_from:
        now_at = f"v{current.to_version}" if current else "nothing"
        raise PromoteError(
            f"{job}'s serving alias changed meanwhile (it now points at {now_at}); "
            "look at `history` and try again"
        )


def switch(
    conn: sqlite3.Connection, job: str, to_version: int, table: str, *, kind: SwitchKind,
    expect_from: int | None, reason: str, forced: bool, at: str,
) -> Switch:  # fmt: skip
    """Point ``job``'s alias at ``to_version``, if it still points at ``expect_from``."""
    check_switch(serving(conn, job), job, expect_from)
    cur = conn.execute(
        'INSERT INTO switches (job, from_version, to_version, "table", at, kind, reason, '
        "forced) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (job, expect_from, to_version, table, at, kind, reason, int(forced)),
    )
    return Switch(int(cur.lastrowid or 0), job, expect_from, to_version, table, at, kind,
                  reason, forced)  # fmt: skip


# ---- reads -----------------------------------------------------------------------------


def topics(conn: sqlite3.Connection) -> list[TopicSpec]:
    rows = conn.execute("SELECT spec FROM topics ORDER BY name").fetchall()
    return [topic_of(json.loads(r[0])) for r in rows]


def versions(conn: sqlite3.Connection, job: str | None) -> list[JobVersion]:
    query, args = "SELECT spec FROM versions", list[object]()
    if job is not None:
        query, args = query + " WHERE job = ?", [job]
    rows = conn.execute(query + " ORDER BY job, version", args).fetchall()
    return [version_of(json.loads(r[0])) for r in rows]


def runs(conn: sqlite3.Connection, job: str | None, version: int | None) -> list[RunRecord]:
    query, args = "SELECT spec FROM runs WHERE 1 = 1", list[object]()
    if job is not None:
        query, args = query + " AND job = ?", [job]
    if version is not None:
        query, args = query + " AND version = ?", [*args, version]
    rows = conn.execute(query + " ORDER BY id", args).fetchall()
    return [run_of(json.loads(r[0])) for r in rows]


_SWITCH_COLUMNS = 'id, job, from_version, to_version, "table", at, kind, reason, forced'


def serving(conn: sqlite3.Connection, job: str) -> Switch | None:
    """The switch in force: which version (and table) the alias points at now."""
    row = conn.execute(
        f"SELECT {_SWITCH_COLUMNS} FROM switches WHERE job = ? ORDER BY id DESC LIMIT 1", (job,)
    ).fetchone()
    return _switch(row) if row else None


def switches(conn: sqlite3.Connection, job: str) -> list[Switch]:
    rows = conn.execute(
        f"SELECT {_SWITCH_COLUMNS} FROM switches WHERE job = ? ORDER BY id", (job,)
    ).fetchall()
    return [_switch(r) for r in rows]


# ---- rows to records -------------------------------------------------------------------


def _switch(row: tuple[Any, ...]) -> Switch:
    id_, job, from_version, to_version, table, at, kind, reason, forced = row
    return Switch(
        id_, job, from_version, to_version, table, at, switch_kind(kind), reason, bool(forced)
    )


def _columns(raw: list[dict[str, str]]) -> tuple[Column, ...]:
    return tuple(Column(**c) for c in raw)


def topic_of(data: dict[str, Any]) -> TopicSpec:
    # Topics recorded before the malformed-event policy existed: compacted ones keep
    # failing fast (upsert-kafka has no dead-letter route), the others get the default.
    policy = data.get("on_malformed") or ("fail" if data.get("compact") else "dlq")
    mapping = tuple((str(c), str(e)) for c, e in data.get("mapping", ()))
    return TopicSpec(**{**data, "columns": _columns(data["columns"]), "on_malformed": policy,
                        "mapping": mapping})  # fmt: skip


def version_of(data: dict[str, Any]) -> JobVersion:
    return JobVersion(
        **{
            **data,
            "kind": job_kind(data["kind"]),
            "output": _columns(data["output"]),
            "key": tuple(data["key"]),
            "sources": tuple(data["sources"]),
        }
    )


def run_of(data: dict[str, Any]) -> RunRecord:
    return RunRecord(**{**data, "mode": run_mode(data["mode"]), "state": run_state(data["state"])})
