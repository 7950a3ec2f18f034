"""Counting malformed events per run: distinct source positions, never DLQ records."""

from __future__ import annotations

import json

from kappanb.kafka.dead_letters import distinct_by_run, parse


def record(run_id: int, offset: int, partition: int = 0, topic: str = "t") -> dict[str, object]:
    return {"reason": "not JSON: ...", "payload": "x", "payload_encoding": "utf-8",
            "topic": topic, "partition": partition, "offset": offset, "job": "j",
            "version": 1, "run_id": run_id, "mode": "live"}  # fmt: skip


def test_a_record_written_twice_after_a_restart_counts_once() -> None:
    records = [record(1, 5), record(1, 9), record(1, 5), record(2, 5), record(1, 5, partition=1)]
    found = distinct_by_run(records)
    assert {run: len(at) for run, at in found.items()} == {1: 3, 2: 1}
    assert found[2] == {("t", 0, 5)}


def test_the_same_offset_of_two_source_topics_is_two_events() -> None:
    found = distinct_by_run([record(1, 5, topic="a"), record(1, 5, topic="b")])
    assert len(found[1]) == 2


def test_parse_keeps_kappanb_records_only() -> None:
    assert parse(json.dumps(record(3, 1)).encode()) == record(3, 1)
    assert parse(b"not json") is None
    assert parse(b'{"reason": "no position"}') is None
    assert parse(b"[1, 2]") is None
    assert parse(None) is None
