"""The registry's log: one event per change, and how an event changes the tables.

An event is JSON, ``{"op": ..., "args": {...}}``, the operation of `registry.base.Registry`
and its arguments. `apply` is the only way the shared registry changes its tables, and it
is deterministic: the same events, in the same order, give the same rows on every
machine. For that it uses nothing but the event and the rows before it:

- time stamps (a version's ``created_at``, a switch's ``at``) come from the log's clock,
  the broker's ``LogAppendTime`` of the event (never below an earlier event's); but
  whether a scheduled removal is due is decided by the claiming event's own broker time
  (`RAW_TIME`): a broker clock set back makes it wait, and a high-water mark left by a
  clock that was once ahead cannot make it early;
- ids (runs, switches) come from the order of inserts;
- a condition (a switch's ``expect_from``, a run's ``if_flink_job``, a job's lock) is
  checked when the event is applied; a failed one is an answer (an error to raise, who
  holds the lock), the same everywhere, and changes nothing.

No I/O: `registry.cache` runs `apply` in its SQLite transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from kappanb import exceptions
from kappanb.exceptions import KappaError, RegistryLogError
from kappanb.registry import leases, removals, tables
from kappanb.registry.base import time_text
from kappanb.registry.kinds import switch_kind

FORMAT = 1
"""The events' format; an event of a newer format is refused when applied, not guessed."""

LEASES = """
CREATE TABLE IF NOT EXISTS leases (job TEXT PRIMARY KEY, lease TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Event:
    """One record of the registry's log, as read back."""

    offset: int
    at_ms: int
    """The broker's timestamp of the record (``LogAppendTime``)."""
    op: str
    args: dict[str, Any]


def encode(op: str, args: dict[str, Any]) -> bytes:
    return json.dumps({"format": FORMAT, "op": op, "args": args}, sort_keys=True).encode()


def decode(offset: int, at_ms: int, value: bytes | None) -> Event:
    """The event at ``offset``; a record that is not one becomes an event `apply` refuses."""
    try:
        data = json.loads(value or b"")
        if data.get("format") != FORMAT or not isinstance(data.get("args"), dict):
            raise ValueError(f"format {data.get('format')!r}")
        return Event(offset, at_ms, str(data["op"]), data["args"])
    except (ValueError, AttributeError, KeyError) as exc:
        return Event(offset, at_ms, "unreadable", {"why": str(exc)})


RAW_TIME = frozenset({"claim_removal"})
"""Changes applied at their event's own broker time rather than the log's clock."""

Outcome = dict[str, Any]
"""What applying an event gave: ``{"ok": ...}``, ``{"error": class, "message": ...}``."""


def apply(conn: sqlite3.Connection, event: Event, clock_ms: int) -> Outcome:
    """Apply ``event`` at log time ``clock_ms``; a refusal leaves the tables as they were."""
    change = _CHANGES.get(event.op)
    if event.op in RAW_TIME:
        clock_ms = event.at_ms
    conn.execute("SAVEPOINT event")
    try:
        if change is None:
            raise RegistryLogError(
                f"event {event.offset} of the registry's log is {event.op!r}, which this "
                f"kappanb does not know ({event.args.get('why', 'a newer kappanb?')}); "
                "it was skipped"
            )
        outcome = {"ok": change(conn, event.args, clock_ms)}
    except (KappaError, ValueError, TypeError, KeyError) as exc:
        conn.execute("ROLLBACK TO event")
        outcome = {"error": type(exc).__name__, "message": str(exc)}
    conn.execute("RELEASE event")
    return outcome


def raise_refusal(outcome: Outcome) -> None:
    """Raise the error an event's outcome holds, as the class `apply` caught."""
    if "error" not in outcome:
        return
    name, message = outcome["error"], outcome["message"]
    cls = getattr(exceptions, name, None)
    if isinstance(cls, type) and issubclass(cls, KappaError):
        raise cls(message)
    raise {"TypeError": TypeError, "KeyError": KeyError}.get(name, ValueError)(message)


# ---- the changes -----------------------------------------------------------------------

Change = Callable[[sqlite3.Connection, dict[str, Any], int], Any]


def _put_topic(conn: sqlite3.Connection, args: dict[str, Any], at_ms: int) -> Any:
    return asdict(tables.put_topic(conn, tables.topic_of(args["topic"]), time_text(at_ms)))


def _add_version(conn: sqlite3.Connection, args: dict[str, Any], at_ms: int) -> Any:
    version, created = tables.add_version(conn, tables.version_of(args["draft"]), time_text(at_ms))
    return {"version": asdict(version), "created": created}


def _add_run(conn: sqlite3.Connection, args: dict[str, Any], _at_ms: int) -> Any:
    return asdict(tables.add_run(conn, tables.run_of(args["run"])))


def _delete_run(conn: sqlite3.Connection, args: dict[str, Any], _at_ms: int) -> Any:
    tables.delete_run(conn, int(args["id"]))


def _update_run(conn: sqlite3.Connection, args: dict[str, Any], _at_ms: int) -> Any:
    return asdict(tables.update_run(conn, int(args["id"]), args.get("if_flink_job"),
                                    args["changes"]))  # fmt: skip


def _switch(conn: sqlite3.Connection, args: dict[str, Any], at_ms: int) -> Any:
    done = tables.switch(
        conn, args["job"], int(args["to_version"]), args["table"],
        kind=switch_kind(args["kind"]), expect_from=args["expect_from"],
        reason=args.get("reason", ""), forced=bool(args.get("forced")), at=time_text(at_ms),
    )  # fmt: skip
    return asdict(done)


def _schedule_removal(conn: sqlite3.Connection, args: dict[str, Any], at_ms: int) -> Any:
    return asdict(removals.schedule(conn, args["job"], int(args["version"]), args["table"],
                                    int(args["after_ms"]), at_ms))  # fmt: skip


def _claim_removal(conn: sqlite3.Connection, args: dict[str, Any], at_ms: int) -> Any:
    return asdict(removals.claim(conn, int(args["id"]), at_ms))


def _finish_removal(conn: sqlite3.Connection, args: dict[str, Any], at_ms: int) -> Any:
    return asdict(removals.finish(conn, int(args["id"]), at_ms))


def lease_of(conn: sqlite3.Connection, job: str) -> leases.Lease | None:
    row = conn.execute("SELECT lease FROM leases WHERE job = ?", (job,)).fetchone()
    return leases.Lease.from_json(json.loads(row[0])) if row else None


def _store(conn: sqlite3.Connection, job: str, decision: leases.Decision) -> None:
    if decision.lease is None:
        conn.execute("DELETE FROM leases WHERE job = ?", (job,))
    else:
        conn.execute(
            "INSERT OR REPLACE INTO leases VALUES (?, ?)",
            (job, json.dumps(decision.lease.to_json(), sort_keys=True)),
        )


def _acquire(conn: sqlite3.Connection, args: dict[str, Any], at_ms: int) -> Any:
    job, holder = args["job"], leases.Holder(**args["holder"])
    decision = leases.acquire(lease_of(conn, job), holder, int(args["lease_ms"]), at_ms)
    _store(conn, job, decision)
    return {"granted": decision.granted, "busy": decision.busy}


def _renew(conn: sqlite3.Connection, args: dict[str, Any], at_ms: int) -> Any:
    decision = leases.renew(lease_of(conn, args["job"]), args["token"], at_ms)
    _store(conn, args["job"], decision)
    return {"granted": decision.granted}


def _release(conn: sqlite3.Connection, args: dict[str, Any], _at_ms: int) -> Any:
    decision = leases.release(lease_of(conn, args["job"]), args["token"])
    _store(conn, args["job"], decision)
    return {"granted": decision.granted}


_CHANGES: dict[str, Change] = {
    "put_topic": _put_topic,
    "add_version": _add_version,
    "add_run": _add_run,
    "delete_run": _delete_run,
    "update_run": _update_run,
    "switch": _switch,
    "schedule_removal": _schedule_removal,
    "claim_removal": _claim_removal,
    "finish_removal": _finish_removal,
    "acquire": _acquire,
    "renew": _renew,
    "release": _release,
}
