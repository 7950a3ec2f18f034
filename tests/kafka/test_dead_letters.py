"""Counting malformed events per run: distinct source positions, never DLQ records."""

from __future__ import annotations

import json
from pathlib import Path

from kappanb.kafka.dead_letter_tally import Tally, TallyFile
from kappanb.kafka.dead_letters import Malformed, distinct_by_run, parse, position


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


def test_position_picks_the_fields_out_of_flinks_compact_json() -> None:
    value = json.dumps(record(4, 77, partition=2, topic="a.b"), separators=(",", ":")).encode()
    assert position(value) == (4, "a.b", 2, 77)


def test_position_is_not_fooled_by_a_payload_that_looks_like_a_record() -> None:
    fake = '"run_id":9,"topic":"x","partition":1,"offset":2'
    spelled = {**record(4, 77), "payload": fake}
    value = json.dumps(spelled, separators=(",", ":")).encode()
    assert position(value) == (4, "t", 0, 77)
    assert position(json.dumps(spelled, indent=1).encode()) == (4, "t", 0, 77)  # slow path


def test_position_of_something_else_is_none() -> None:
    assert position(b"not json") is None
    assert position(b'{"run_id": 1, "partition": null, "offset": 3}') is None
    assert position(None) is None


def test_a_tally_survives_its_file_and_counts_distinct_positions(tmp_path: Path) -> None:
    tally = Tally("id-1", {0: 7})
    tally.add({(1, "t", 0): [5, 6, 5, 9], (2, "t", 0): [5], (1, "u", 3): [5]})
    file = TallyFile(tmp_path, "t.dlq")
    file.save(tally)
    assert not file.changed()
    again = TallyFile(tmp_path, "t.dlq").load()
    assert again.to_json() == tally.to_json()
    assert (again.count(1), again.count(2), again.count(3), again.next) == (4, 1, 0, {0: 7})


def test_a_damaged_tally_file_counts_again_from_the_start(tmp_path: Path) -> None:
    (tmp_path / "t.dlq.json").write_text('{"format": 1, "next": ')
    assert TallyFile(tmp_path, "t.dlq").load() == Tally()


def test_malformed_figures_add_up_and_stay_inexact_if_one_is() -> None:
    total = Malformed(3) + Malformed(4, exact=False)
    assert total == Malformed(7, exact=False)
