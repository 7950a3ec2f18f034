"""Which partition holds a run's watermark, and the caught-up rule that waits for it (no I/O)."""

from __future__ import annotations

from kappanb.monitor.history import CaughtUp
from kappanb.monitor.holds import WatermarkHold, has_event_time_operators, watermark_hold
from kappanb.monitor.sample import NO_WATERMARK, Sample

TOPIC = "rides.trips.v1"
SPELLED = "rides_trips_v1"
HOUR = 3_600_000
DELAY = 30_000
# Partition 3's newest event is 27 h behind the others'.
NEWEST = {TOPIC: {0: 100 * HOUR, 1: 100 * HOUR - 5, 2: 99 * HOUR, 3: 73 * HOUR}}
ALL = {(TOPIC, p): 0 for p in range(4)}  # every partition read to its end


def test_no_hold_once_the_watermark_reached_what_the_data_closes() -> None:
    closing = 100 * HOUR - DELAY
    assert watermark_hold(closing, NEWEST, ALL, {TOPIC: DELAY}) is None
    assert watermark_hold(closing + 1, NEWEST, ALL, {TOPIC: DELAY}) is None


def test_the_partition_whose_last_event_set_the_watermark_holds_it() -> None:
    stuck = 73 * HOUR - DELAY  # the watermark ended at partition 3's newest event
    hold = watermark_hold(stuck, NEWEST, ALL, {TOPIC: DELAY})
    assert hold == WatermarkHold(TOPIC, 3, 27 * HOUR)
    assert str(hold) == f"watermark held by partition 3 of {TOPIC}: newest event 27.0 h behind"
    # Stuck at partition 2's level (partition 3 already fell quiet): partition 2 holds it.
    hold = watermark_hold(99 * HOUR - DELAY, NEWEST, ALL, {TOPIC: DELAY})
    assert hold is not None and (hold.partition, hold.behind_ms) == (2, HOUR)


def test_a_partition_still_being_read_does_not_hold_it_is_catching_up() -> None:
    stuck = 73 * HOUR - DELAY
    unread = {**ALL, (TOPIC, 3): 5000}
    assert watermark_hold(stuck, NEWEST, unread, {TOPIC: DELAY}) is None
    # A few records behind (positions are reported late, events still arrive): it holds.
    assert watermark_hold(stuck, NEWEST, {**ALL, (TOPIC, 3): 20}, {TOPIC: DELAY}) is not None


def test_without_a_watermark_an_empty_partition_is_named() -> None:
    newest = {TOPIC: {0: 10 * HOUR, 1: 11 * HOUR}}
    hold = watermark_hold(None, newest, {(TOPIC, p): 0 for p in range(3)}, {TOPIC: 0})
    assert hold == WatermarkHold(TOPIC, 2, None)
    assert str(hold).endswith("partition 2 of rides.trips.v1: it has no event yet")
    assert watermark_hold(None, {}, {(TOPIC, 0): 0}, {}) is None  # no event: nothing closes


def test_a_job_of_two_topics_waits_for_the_one_behind() -> None:
    newest = {TOPIC: {0: 10 * HOUR}, "rides.fares.v1": {0: 8 * HOUR}}
    assert watermark_hold(8 * HOUR, newest, {}, {}) is None
    hold = watermark_hold(8 * HOUR - 1, newest, {}, {})
    assert hold is not None and hold.topic == "rides.fares.v1"


def test_event_time_operators_are_told_by_flink_vertex_names() -> None:
    assert has_event_time_operators(["GlobalWindowAggregate[5] -> Calc[6] -> IcebergSink"])
    assert has_event_time_operators(["IntervalJoin[7]", "Source: trips"])
    assert not has_event_time_operators(["TemporalJoin[9] -> Calc[10]"])  # not judged yet
    assert not has_event_time_operators(["GroupAggregate[4] -> Sink: kappanb.t"])


def _sample(operator_watermark: int | None, *, operators: bool = True) -> Sample:
    return Sample(
        at=0.0, state="RUNNING", checkpoints=5, watermark_ms=100 * HOUR - DELAY,
        read_positions={SPELLED: {p: 10 for p in range(4)}},
        end_offsets={SPELLED: {p: 10 for p in range(4)}},
        partition_event_ms=NEWEST, event_time_operators=operators,
        operator_watermark_ms=operator_watermark,
    )  # fmt: skip


def test_a_held_run_is_not_caught_up_and_says_by_what() -> None:
    rule = CaughtUp(threshold=0, hold=1, delays={TOPIC: DELAY})
    assert not rule.update(_sample(73 * HOUR - DELAY))
    assert rule.held_by is not None and rule.held_by.partition == 3
    assert not rule.update(_sample(NO_WATERMARK))  # the window operator has none yet
    assert rule.held_by is not None
    assert rule.update(_sample(100 * HOUR - DELAY))  # released: caught up
    assert rule.held_by is None


def test_a_job_without_event_time_operators_is_never_held() -> None:
    rule = CaughtUp(threshold=0, hold=1, delays={TOPIC: DELAY})
    assert rule.update(_sample(73 * HOUR - DELAY, operators=False))
    assert rule.held_by is None


def test_with_the_operators_chained_to_the_source_its_watermark_counts() -> None:
    rule = CaughtUp(threshold=0, hold=1, delays={TOPIC: DELAY})
    assert rule.update(_sample(None))  # the source's watermark reached the closing point
