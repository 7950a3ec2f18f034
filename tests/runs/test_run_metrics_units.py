"""How `status` turns offsets into records read, and where a run began (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

from kappanb.kafka.run_offsets import StartAt
from kappanb.registry.records import RunRecord
from kappanb.runs.run_metrics import offsets_passed, start_at

STARTS = {"pay.v1": {0: 0, 1: 100}}


def _run(start: str, started_at: str = "2026-03-04 12:00:05 UTC") -> RunRecord:
    return RunRecord(
        id=1, job="j", version=1, mode="replay", table="j__v1", group_id="g", start=start,
        until=None, flink_job_id="f" * 32, state="RUNNING", started_at=started_at,
    )  # fmt: skip


def test_flinks_position_counts_from_the_start_offset_with_topics_spelled_as_flink_does() -> None:
    assert offsets_passed(STARTS, {"pay_v1": {0: 40, 1: 130}}, {}, restored=False) == 70


def test_the_furthest_of_flink_and_the_group_counts() -> None:
    committed = {"pay.v1": {0: 50, 1: 120}}
    assert offsets_passed(STARTS, {"pay_v1": {0: 40}}, committed, restored=True) == 70


def test_a_restored_partition_nobody_knows_yet_is_unknown_never_zero() -> None:
    assert offsets_passed(STARTS, {"pay_v1": {0: 40}}, {}, restored=True) is None
    assert offsets_passed(STARTS, {"pay_v1": {0: 40}}, {}, restored=False) == 40  # not read yet


def test_start_positions_from_the_runs_from() -> None:
    assert start_at(_run("earliest")) == StartAt()
    assert start_at(_run("0:120,1:98")) == StartAt(offsets={0: 120, 1: 98})
    noon = int(datetime(2026, 3, 4, 12, tzinfo=UTC).timestamp() * 1000)
    assert start_at(_run("2026-03-04T12:00")) == StartAt(millis=noon)
    assert start_at(_run("latest")) == StartAt(millis=noon + 5_000)


def test_a_restored_partition_with_nothing_to_read_counts_as_read_to_its_start() -> None:
    # An empty partition is never committed: its head equal to its start says so.
    committed = {"pay.v1": {0: 50}}
    empty = {"pay.v1": {0: 50, 1: 100}}
    assert offsets_passed(STARTS, {}, committed, restored=True, heads=empty) == 50
    grown = {"pay.v1": {0: 50, 1: 105}}  # records arrived since: unknown until reported
    assert offsets_passed(STARTS, {}, committed, restored=True, heads=grown) is None
