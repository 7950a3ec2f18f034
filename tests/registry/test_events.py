"""Applying the registry's log (no Kafka): the same events give the same rows on every
machine, with the events' broker time and ids from the log's order."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest

from kappanb.exceptions import PromoteError, RegistryLogError, RunNotFoundError
from kappanb.registry import events, tables
from kappanb.registry.base import time_text
from kappanb.registry.cache import LogCache
from kappanb.registry.events import Event, decode, encode
from kappanb.registry.records import TopicSpec
from tests.registry.test_store import _draft, _run

T0 = 1_765_000_000_000
A = {"token": "a", "command": "promote j v2", "user": "ada", "host": "one", "pid": 1}
B = {"token": "b", "command": "replay j v3", "user": "bob", "host": "two", "pid": 2}


def _log() -> list[Event]:
    """A day of a shared registry, as its records would come back from Kafka."""
    topic = TopicSpec("pay", "pay", (), created_at="")
    changes: list[tuple[str, dict[str, Any]]] = [
        ("put_topic", {"topic": asdict(topic)}),
        ("add_version", {"draft": asdict(_draft("j", "d1"))}),
        ("add_version", {"draft": asdict(_draft("j", "d2"))}),
        ("add_version", {"draft": asdict(_draft("j", "d1"))}),  # known digest: v1 again
        ("add_run", {"run": asdict(_run("j", 1))}),
        ("add_run", {"run": asdict(_run("j", 2))}),
        ("delete_run", {"id": 2}),
        ("add_run", {"run": asdict(_run("j", 2))}),
        ("update_run", {"id": 1, "if_flink_job": None, "changes": {"state": "FINISHED"}}),
        ("update_run", {"id": 9, "if_flink_job": None, "changes": {"state": "FINISHED"}}),
        (
            "switch",
            {
                "job": "j",
                "to_version": 1,
                "table": "j__v1",
                "kind": "first live run",
                "expect_from": None,
            },
        ),
        ("acquire", {"job": "j", "holder": A, "lease_ms": 5_000}),
        ("acquire", {"job": "j", "holder": B, "lease_ms": 5_000}),  # A holds it
        (
            "switch",
            {
                "job": "j",
                "to_version": 2,
                "table": "j__v2",
                "kind": "promote",
                "expect_from": 1,
                "reason": "fix",
                "forced": False,
            },
        ),
        (
            "switch",
            {"job": "j", "to_version": 2, "table": "j__v2", "kind": "promote", "expect_from": 1},
        ),
        ("release", {"job": "j", "token": "a"}),
        ("acquire", {"job": "j", "holder": B, "lease_ms": 5_000}),
    ]
    return [decode(i, T0 + 1_000 * i, encode(op, args)) for i, (op, args) in enumerate(changes)]


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of a cache, table by table."""
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: conn.execute(f"SELECT * FROM {n} ORDER BY 1").fetchall() for n in sorted(names)}
    finally:
        conn.close()


def _applied(path: Path, log: list[Event], batches: int = 1) -> LogCache:
    cache = LogCache(path)
    cache.adopt("log-1")
    size = -(-len(log) // batches)
    for start in range(0, len(log), size):
        cache.apply("log-1", log[start : start + size])
    return cache


def test_the_same_events_give_the_same_rows_however_they_are_read(tmp_path: Path) -> None:
    one = _applied(tmp_path / "one.sqlite", _log())
    two = _applied(tmp_path / "two.sqlite", _log(), batches=5)
    _applied(tmp_path / "two.sqlite", _log())  # read again (another process): nothing twice
    assert dump(one.path) == dump(two.path)
    assert one.position().offset == len(_log()) - 1 and dump(one.path)["runs"]


def test_times_come_from_the_events_and_ids_from_their_order(tmp_path: Path) -> None:
    cache = _applied(tmp_path / "c.sqlite", _log())
    topic, = cache.read(tables.topics)  # fmt: skip
    assert topic.created_at == time_text(T0)
    versions = cache.read(lambda c: tables.versions(c, "j"))
    assert [(v.version, v.digest, v.created_at) for v in versions] == [
        (1, "d1", time_text(T0 + 1_000)), (2, "d2", time_text(T0 + 2_000))
    ]  # fmt: skip
    again = (cache.outcome(3) or {})["ok"]
    assert tables.version_of(again["version"]) == versions[0] and again["created"] is False
    runs = cache.read(lambda c: tables.runs(c, None, None))
    assert [(r.id, r.version, r.state) for r in runs] == [(1, 1, "FINISHED"), (3, 2, "RUNNING")]
    history = cache.read(lambda c: tables.switches(c, "j"))
    assert [(s.id, s.to_version, s.at) for s in history] == [
        (1, 1, time_text(T0 + 10_000)), (2, 2, time_text(T0 + 13_000))
    ]  # fmt: skip


def test_failed_conditions_are_answers_that_change_nothing(tmp_path: Path) -> None:
    cache = _applied(tmp_path / "c.sqlite", _log())
    missing, stale = cache.outcome(9), cache.outcome(14)
    assert missing is not None and stale is not None
    with pytest.raises(RunNotFoundError, match="no run #9"):
        events.raise_refusal(missing)
    with pytest.raises(PromoteError, match=r"changed meanwhile .* v2"):
        events.raise_refusal(stale)
    assert cache.outcome(12) == {"ok": {"granted": False, "busy": (
        f"`promote j v2`, pid 1 on one as ada, since {time_text(T0 + 11_000)[11:]}")}}  # fmt: skip
    assert cache.outcome(16) == {"ok": {"granted": True, "busy": ""}}  # released, then taken


def test_an_unknown_or_unreadable_event_is_skipped_the_same_everywhere(tmp_path: Path) -> None:
    log = [
        decode(0, T0, b"not json"),
        decode(1, T0, encode("rename_everything", {})),
        decode(2, T0, encode("put_topic", {"topic": {"name": "x"}})),  # missing fields
    ]
    cache = _applied(tmp_path / "c.sqlite", log)
    for offset in range(3):
        outcome = cache.outcome(offset)
        assert outcome is not None and "error" in outcome
    with pytest.raises(RegistryLogError, match="rename_everything"):
        events.raise_refusal(cache.outcome(1) or {})
    assert cache.read(tables.topics) == [] and cache.position().offset == 2


def test_the_logs_clock_never_goes_back(tmp_path: Path) -> None:
    """A broker whose clock stepped back (or a new partition leader behind the old one)
    stamps an event earlier than the one before: the log's clock stays where it was, so
    no lease expires early and no time stamp goes backwards."""
    held = {"job": "j", "holder": A, "lease_ms": 5_000}
    log = [
        decode(0, T0, encode("acquire", held)),
        decode(1, T0 + 4_000, encode("renew", {"job": "j", "token": "a"})),
        decode(2, T0 - 50_000, encode("add_version", {"draft": asdict(_draft("j", "d1"))})),
        decode(3, T0 + 8_000, encode("acquire", {**held, "holder": B})),
        decode(4, T0 + 9_000, encode("acquire", {**held, "holder": B})),
    ]
    cache = _applied(tmp_path / "c.sqlite", log)
    assert cache.read(lambda c: tables.versions(c, "j"))[0].created_at == time_text(T0 + 4_000)
    assert cache.outcome(3) == {"ok": {"granted": False, "busy": (
        f"`promote j v2`, pid 1 on one as ada, since {time_text(T0)[11:]}")}}  # fmt: skip
    assert (cache.outcome(4) or {})["ok"]["granted"]  # 5 s after the renewal
    assert cache.position().clock_ms == T0 + 9_000


def test_a_cache_of_another_log_starts_afresh(tmp_path: Path) -> None:
    cache = _applied(tmp_path / "c.sqlite", _log())
    assert not cache.adopt("log-1")  # the same log: kept
    assert cache.adopt("log-2")  # the topic was made again: another log
    assert cache.position() == replace(cache.position(), log_id="log-2", offset=-1)
    assert cache.read(tables.topics) == [] and cache.outcome(0) is None
    with pytest.raises(RegistryLogError, match="another log"):
        cache.apply("log-1", _log())
    cache.apply("log-2", _log())
    assert dump(cache.path) == dump(_applied(tmp_path / "fresh.sqlite", _log()).path) | {
        "position": dump(cache.path)["position"]
    }


def test_a_removal_is_due_by_its_claims_own_broker_time(tmp_path: Path) -> None:
    """Scheduled at the log's clock; claimed only when the claiming event's own stamp has
    reached the due time: a broker clock that was once a week ahead (the log's clock keeps
    that high-water mark) and was then set right does not remove anything early."""
    day = 86_400_000
    switches = [("switch", {"job": "j", "to_version": v, "table": f"j__v{v}", "kind": "promote",
                            "expect_from": v - 1 or None}) for v in (1, 2, 3)]  # fmt: skip
    changes: list[tuple[int, str, dict[str, Any]]] = [
        *[(T0, op, args) for op, args in switches],
        (T0, "schedule_removal", {"job": "j", "version": 1, "table": "j__v1", "after_ms": 7 * day}),
        (T0 + 8 * day, "renew", {"job": "j", "token": "x"}),  # a broker a week ahead
        (T0 + day, "claim_removal", {"id": 1}),  # set right: a day after, not due
        (T0 - day, "claim_removal", {"id": 1}),  # set back: not due
        (T0 + 7 * day, "claim_removal", {"id": 1}),  # due
        (T0 + 7 * day + 5, "finish_removal", {"id": 1}),
    ]
    log = [decode(i, at, encode(op, args)) for i, (at, op, args) in enumerate(changes)]
    cache = _applied(tmp_path / "c.sqlite", log)
    states = [(cache.outcome(i) or {})["ok"]["state"] for i in (3, 5, 6, 7, 8)]
    assert states == ["scheduled", "scheduled", "scheduled", "removing", "removed"]
    removal = (cache.outcome(3) or {})["ok"]
    assert removal["due_ms"] == T0 + 7 * day and removal["scheduled_at"] == time_text(T0)
    assert (cache.outcome(8) or {})["ok"]["done_at"] == time_text(T0 + 8 * day)  # log clock
