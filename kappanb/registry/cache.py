"""This machine's copy of the registry's log: the tables the events made, in SQLite.

The file holds the registry's tables (`registry.tables`), the job leases, the outcome of
each event applied (so a writer learns what its own event did, whichever process on this
machine applied it) and where it stands: which log it copies (the topic's id), the last
offset applied, the log's clock. Events are applied in one transaction with that
position, and only past it, so several processes of one home may share the file and a
crash in the middle applies nothing twice. Deleting the file costs nothing but time:
the next process rebuilds it from offset 0.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kappanb.exceptions import RegistryLogError
from kappanb.registry import events, removals, tables
from kappanb.registry.store import open_sqlite, transaction

SCHEMA = (
    tables.SCHEMA
    + removals.SCHEMA
    + events.LEASES
    + """
CREATE TABLE IF NOT EXISTS outcomes (log_offset INTEGER PRIMARY KEY, outcome TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS position (
    one INTEGER PRIMARY KEY CHECK (one = 1), log_id TEXT NOT NULL, log_offset INTEGER NOT NULL,
    clock_ms INTEGER NOT NULL
);
"""
)
_STATE_TABLES = ("topics", "versions", "runs", "switches", "removals", "leases", "outcomes")

T = TypeVar("T")


@dataclass(frozen=True)
class Position:
    """Where the cache stands in its log."""

    log_id: str
    """The Kafka topic's id ('' before the first use): a recreated topic is another log."""
    offset: int
    """The last offset applied (-1: none)."""
    clock_ms: int
    """The log's clock: the greatest broker timestamp applied so far."""


class LogCache:
    """The registry's tables as the log's events up to `position` made them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        open_sqlite(path, SCHEMA)

    def position(self) -> Position:
        with transaction(self.path) as conn:
            return _position(conn)

    def adopt(self, log_id: str) -> bool:
        """Copy the log ``log_id`` from now on: when the cache held another log (the topic
        was deleted and made again), forget its rows. Returns True when it did."""
        with transaction(self.path) as conn:
            held = _position(conn)
            if held.log_id == log_id:
                return False
            for table in (*_STATE_TABLES, "sqlite_sequence"):
                conn.execute(f"DELETE FROM {table}")
            _set_position(conn, Position(log_id, -1, 0))
            return held.log_id != ""

    def apply(self, log_id: str, batch: Iterable[events.Event]) -> Position:
        """Apply the events past the cache's position, in order, in one transaction."""
        with transaction(self.path) as conn:
            at = _position(conn)
            if at.log_id != log_id:
                raise RegistryLogError(
                    f"the registry cache {self.path} copies another log than the one being "
                    "read (its topic was made again meanwhile); try the command again"
                )
            for event in batch:
                if event.offset <= at.offset:
                    continue  # applied already (by another process of this home)
                clock = max(at.clock_ms, event.at_ms)
                outcome = events.apply(conn, event, clock)
                if event.op != "renew":  # nobody reads a heartbeat's answer
                    conn.execute(
                        "INSERT INTO outcomes VALUES (?, ?)", (event.offset, json.dumps(outcome))
                    )
                at = Position(log_id, event.offset, clock)
            _set_position(conn, at)
            return at

    def outcome(self, offset: int) -> events.Outcome | None:
        """What applying the event at ``offset`` gave (None: not applied yet)."""
        with transaction(self.path) as conn:
            row = conn.execute("SELECT outcome FROM outcomes WHERE log_offset = ?", (offset,))
            found = row.fetchone()
        return json.loads(found[0]) if found else None

    def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        with transaction(self.path) as conn:
            return query(conn)


def _position(conn: sqlite3.Connection) -> Position:
    row = conn.execute("SELECT log_id, log_offset, clock_ms FROM position").fetchone()
    return Position(*row) if row else Position("", -1, 0)


def _set_position(conn: sqlite3.Connection, at: Position) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO position VALUES (1, ?, ?, ?)", (at.log_id, at.offset, at.clock_ms)
    )
