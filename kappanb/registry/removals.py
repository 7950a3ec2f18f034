"""Retired tables scheduled for removal: the rules, on one open SQLite transaction.

Like `registry.tables`, both registries use these functions: the local one in its own
transaction with its clock, the shared one while it applies its log's events with their
broker time. A removal goes ``scheduled`` -> ``removing`` (a sweep claimed it: due, and
still safe) -> ``removed`` (the sweep dropped the table); or -> ``cancelled``, when the
table became the served version or the rollback target again, or a run writes to it
again, before it was due (a promote or a rollback may come any time in a week).

Time is the registry's: a removal is due when the registry's clock *at the claim* has
reached ``due_ms``. Nothing keeps a high-water mark of the clock here: a clock that jumps
backwards makes the claim see an earlier time, so it waits longer, never less.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from kappanb.exceptions import RemovalRefusedError
from kappanb.registry import tables
from kappanb.registry.base import time_text
from kappanb.registry.kinds import RemovalState, removal_state
from kappanb.registry.records import Removal, Switch

SCHEMA = """
CREATE TABLE IF NOT EXISTS removals (
    id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, version INTEGER NOT NULL,
    "table" TEXT NOT NULL, scheduled_at TEXT NOT NULL, due_ms INTEGER NOT NULL,
    state TEXT NOT NULL, done_at TEXT, note TEXT NOT NULL
);
"""

_COLUMNS = 'id, job, version, "table", scheduled_at, due_ms, state, done_at, note'


def protection(current: Switch | None, job: str, version: int) -> str | None:
    """Why ``version``'s table must stay while ``current`` is the switch in force (it is
    what readers get, or what `rollback` returns to), or None when nothing holds it."""
    if current is None:
        return None
    if current.to_version == version:
        return f"{job} v{version} is what readers get"
    if current.from_version == version:
        return (
            f"{job} v{version} is the rollback target (`rollback {job}` returns to it from "
            f"v{current.to_version})"
        )
    return None


def refusal(
    reason: str, job: str, version: int, *, how: str = "--remove-after ..."
) -> RemovalRefusedError:
    """The error for removing (``how``: scheduling, or ``--drop``) a table ``reason`` says
    must stay."""
    done = "no removal was scheduled" if how.startswith("--remove-after") else "nothing dropped"
    return RemovalRefusedError(
        f"{reason}, so its table is kept and {done} (nothing was changed); "
        f"promote another version first, then `retire {job} v{version} {how}` again"
    )


# ---- changes ---------------------------------------------------------------------------


def schedule(
    conn: sqlite3.Connection, job: str, version: int, table: str, after_ms: int, at_ms: int
) -> Removal:
    """Schedule ``table`` (of ``job`` ``version``) for removal ``after_ms`` after ``at_ms``;
    refused while the version is served or the rollback target. A pending removal of the
    same table is replaced (cancelled, saying so)."""
    if after_ms < 0:
        raise ValueError(f"a grace period cannot be negative ({after_ms} ms)")
    if (reason := protection(tables.serving(conn, job), job, version)) is not None:
        raise refusal(reason, job, version)
    at = time_text(at_ms)
    conn.execute(
        "UPDATE removals SET state = 'cancelled', done_at = ?, "
        "note = 'replaced by a later schedule' "
        "WHERE \"table\" = ? AND state IN ('scheduled', 'removing')",
        (at, table),
    )
    cur = conn.execute(
        'INSERT INTO removals (job, version, "table", scheduled_at, due_ms, state, note) '
        "VALUES (?, ?, ?, ?, ?, 'scheduled', '')",
        (job, version, table, at, at_ms + after_ms),
    )
    return _get(conn, int(cur.lastrowid or 0))


def claim(conn: sqlite3.Connection, removal_id: int, at_ms: int) -> Removal:
    """At time ``at_ms``: ``removing`` when the removal is due and its table still safe to
    drop; ``cancelled`` (saying why) when it is no longer safe; unchanged when it is not
    due yet or not pending (another sweep finished it)."""
    removal = _get(conn, removal_id)
    if not removal.pending or at_ms < removal.due_ms:
        return removal
    current = tables.serving(conn, removal.job)
    reason = protection(current, removal.job, removal.version)
    if reason is None:
        writing = [r for r in tables.runs(conn, removal.job, removal.version)
                   if r.active and r.table == removal.table]  # fmt: skip
        if writing:
            reason = f"run #{writing[0].id} writes to {removal.table} again ({writing[0].state})"
    if reason is not None:
        note = f"{reason}: kept, the removal is called off (`retire` schedules it again)"
        return _set(conn, removal_id, "cancelled", time_text(at_ms), note)
    return _set(conn, removal_id, "removing", None, removal.note)


def finish(conn: sqlite3.Connection, removal_id: int, at_ms: int) -> Removal:
    """Record that a claimed removal's table was dropped at ``at_ms``."""
    removal = _get(conn, removal_id)
    if removal.state != "removing":
        return removal
    return _set(conn, removal_id, "removed", time_text(at_ms), removal.note)


# ---- reads -----------------------------------------------------------------------------


def removals(conn: sqlite3.Connection, job: str | None, pending: bool = False) -> list[Removal]:
    """The removals (of ``job``), oldest first; only those not done with ``pending``."""
    query, args = f"SELECT {_COLUMNS} FROM removals WHERE 1 = 1", list[Any]()
    if job is not None:
        query, args = query + " AND job = ?", [job]
    if pending:
        query += " AND state IN ('scheduled', 'removing')"
    return [_removal(r) for r in conn.execute(query + " ORDER BY id", args).fetchall()]


def _get(conn: sqlite3.Connection, removal_id: int) -> Removal:
    row = conn.execute(f"SELECT {_COLUMNS} FROM removals WHERE id = ?", (removal_id,)).fetchone()
    if row is None:
        raise RemovalRefusedError(f"the registry has no scheduled removal #{removal_id}")
    return _removal(row)


def _set(
    conn: sqlite3.Connection, removal_id: int, state: RemovalState, done_at: str | None,
    note: str,
) -> Removal:  # fmt: skip
    conn.execute(
        "UPDATE removals SET state = ?, done_at = ?, note = ? WHERE id = ?",
        (state, done_at, note, removal_id),
    )
    return _get(conn, removal_id)


def _removal(row: tuple[Any, ...]) -> Removal:
    id_, job, version, table, scheduled_at, due_ms, state, done_at, note = row
    return Removal(id_, job, version, table, scheduled_at, due_ms, removal_state(state),
                   done_at, note)  # fmt: skip
