"""Derived figures and the caught-up rule, on synthetic samples (no I/O)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kappanb.monitor.history import CaughtUp, RunHistory, metric_topic
from kappanb.monitor.sample import Sample

T = "payments_captured_v1"


def sample(at: float, read: int, end: int, state: str = "RUNNING", wm: int | None = None) -> Sample:
    """Two partitions, the same position on each."""
    return Sample(
        at=at, state=state, watermark_ms=wm,
        read_positions={T: {0: read, 1: read}}, end_offsets={T: {0: end, 1: end}},
    )  # fmt: skip


def test_behind_per_partition_and_total() -> None:
    s = Sample(at=0, state="RUNNING", read_positions={T: {0: 90}},
               end_offsets={T: {0: 100, 1: 5}})  # fmt: skip
    assert s.behind() == {(T, 0): 10, (T, 1): 5}  # an unread partition is behind by all
    assert s.behind_total == 15
    assert metric_topic("payments.captured.v1") == T


def test_a_frozen_flink_position_gives_way_to_the_groups_newer_commit() -> None:
    # Flink's metric store froze at 40 (a clock stepped back); the job has since committed
    # 90 in its own checkpoints: it has read at least that far.
    frozen = Sample(at=0, state="RUNNING", checkpoints=5, read_positions={T: {0: 40}},
                    committed={T: {0: 90, 1: 3}}, end_offsets={T: {0: 100, 1: 5}})  # fmt: skip
    assert frozen.positions() == {T: {0: 90, 1: 3}}
    assert frozen.behind() == {(T, 0): 10, (T, 1): 2}
    fresh = Sample(at=0, state="RUNNING", checkpoints=5, read_positions={T: {0: 95}},
                   committed={T: {0: 90}}, end_offsets={T: {0: 100}})  # fmt: skip
    assert fresh.behind_total == 5  # Flink's newer position counts


def test_a_commit_this_job_may_not_have_made_only_stands_in_for_a_missing_position() -> None:
    # A live run started again from the start: its group still holds the last run's 100.
    restarted = Sample(at=0, state="RUNNING", checkpoints=1, read_positions={T: {0: 10}},
                       committed={T: {0: 100, 1: 4}}, end_offsets={T: {0: 100, 1: 5}})  # fmt: skip
    assert restarted.positions() == {T: {0: 10, 1: 4}}
    assert restarted.behind_total == 91


def test_throughput_and_eta_from_the_recent_window() -> None:
    history = RunHistory(size=100, window=5)
    # The head grows by 10 per partition per second, the run reads 110 per second.
    for i in range(10):
        history.add(sample(at=i, read=110 * i, end=2000 + 10 * i))
    assert history.throughput() == pytest.approx(220.0)  # both partitions
    latest = history.latest
    assert latest is not None and latest.behind_total == 2 * (2090 - 990)
    assert history.eta_seconds() == pytest.approx(2200 / 200)  # gap closes at 200/s


@pytest.mark.parametrize("step", [-18.0, -3.0, 3.0, 600.0])
def test_a_wall_clock_that_steps_moves_no_rate_no_eta_and_no_point_of_the_charts(
    step: float,
) -> None:
    # One sample a second on a clock that does not step; the wall clock steps by ``step``
    # after the fifth (NTP, a laptop waking up), inside the 5 s window rates count over.
    smooth, stepped = RunHistory(size=100, window=5), RunHistory(size=100, window=5)
    for i in range(10):
        taken = sample(at=1_000.0 + i, read=110 * i, end=2000 + 10 * i)
        smooth.add(taken)
        wall = 1_000.0 + i + (step if i >= 5 else 0.0)
        stepped.add(replace(taken, at=wall, clock=50.0 + i))
    assert stepped.throughput() == pytest.approx(smooth.throughput())
    assert stepped.eta_seconds() == pytest.approx(smooth.eta_seconds())
    assert stepped.rate_now() == pytest.approx(smooth.rate_now())
    axis = stepped.frame()["at"].to_list()
    assert axis == pytest.approx([1_000.0 + i + step for i in range(10)])  # the newest wall
    assert stepped.frame()["records_in_per_s"].to_list() == pytest.approx(
        smooth.frame()["records_in_per_s"].to_list()
    )


def test_eta_is_none_when_the_gap_does_not_close() -> None:
    history = RunHistory(window=3)
    for i in range(3):
        history.add(sample(at=i, read=10 * i, end=100 + 20 * i))
    assert history.eta_seconds() is None
    assert RunHistory().eta_seconds() is None  # nothing sampled yet


def test_history_is_bounded_and_frames_its_samples() -> None:
    history = RunHistory(size=4)
    for i in range(10):
        history.add(sample(at=i, read=i, end=10))
    frame = history.frame()
    assert len(history) == 4 and frame["at"].to_list() == [6, 7, 8, 9]
    assert frame["behind"].to_list() == [8, 6, 4, 2]


def test_caught_up_fires_once_after_holding() -> None:
    rule = CaughtUp(threshold=10, hold=3, watermark_delay_ms=30_000)
    fired = [rule.update(sample(i, read=r, end=100), live_watermark_ms=None)
             for i, r in enumerate([50, 95, 96, 97, 98, 99])]  # fmt: skip
    assert fired == [False, False, False, True, False, False]


def test_caught_up_needs_the_watermark_near_the_live_one() -> None:
    rule = CaughtUp(threshold=10, hold=2, watermark_delay_ms=30_000)
    live = 1_000_000
    assert not rule.update(sample(0, 100, 100, wm=live - 60_000), live)  # watermark far behind
    assert not rule.update(sample(1, 100, 100, wm=live - 10_000), live)
    assert rule.update(sample(2, 100, 100, wm=live - 5_000), live)
    restarting = CaughtUp(threshold=10, hold=1)
    assert not restarting.update(sample(0, 100, 100, state="RESTARTING"))


def test_rates_come_from_positions_and_the_frame_carries_the_head_event_time() -> None:
    history = RunHistory()
    starting = Sample(at=0.0, state="RUNNING", records_in_per_s=7.0, end_offsets={T: {0: 100}})
    history.add(starting)  # no position yet: Flink's own meter is all there is
    for i, read in ((1, 20), (3, 60)):
        history.add(Sample(at=float(i), state="RUNNING", read_positions={T: {0: read}},
                           end_offsets={T: {0: 100}}, watermark_ms=1_000,
                           head_event_ms=61_000))  # fmt: skip
    frame = history.frame()
    assert frame["records_in_per_s"].to_list() == [7.0, 0.0, 20.0]  # (60 - 20) / 2 s
    assert frame["head_event_ms"].to_list() == [None, 61_000, 61_000]
    latest = history.latest
    assert latest is not None and latest.event_time_lag_ms == 60_000


def test_durations_read_as_people_say_them() -> None:
    from kappanb.monitor.watch_set import duration

    assert [duration(ms) for ms in (850, 42_000, 12 * 60_000, 5 * 3_600_000, 3 * 86_400_000)] == [
        "850 ms", "42 s", "12 min", "5.0 h", "3.0 days",
    ]  # fmt: skip


def test_a_position_reported_twice_does_not_show_as_a_stall() -> None:
    history = RunHistory()
    for at, read in enumerate([0, 100, 100, 300, 400]):  # t=2: Flink's cache, not a stall
        history.add(sample(at=at, read=read, end=1000))
    rates = history.frame()["records_in_per_s"].to_list()
    assert rates[2] > 0 and rates[2] == pytest.approx(2 * 100 / 2)  # both partitions, over 2 s
    assert rates[4] == pytest.approx(2 * (400 - 100) / 3)  # over the last 3 s


def test_caught_up_can_wait_for_a_checkpoint_that_commits_the_output() -> None:
    rule = CaughtUp(threshold=10, hold=2, committed=True)

    def at(i: int, read: int, checkpoints: int) -> Sample:
        return Sample(at=i, state="RUNNING", read_positions={T: {0: read}},
                      end_offsets={T: {0: 100}}, checkpoints=checkpoints)  # fmt: skip

    fired = [rule.update(at(i, r, c)) for i, (r, c) in enumerate(
        [(50, 1), (95, 1), (100, 1), (100, 1), (100, 2), (100, 3)]
    )]  # fmt: skip
    # Close from the second sample on, held by the third; the output is committed only by
    # the checkpoint completed after that (the fifth sample).
    assert fired == [False, False, False, False, True, False]
