"""The caught-up rule kept between a panel's polls: the watch's rule, sample by sample."""

from __future__ import annotations

from kappanb.monitor.polled import PolledCatchUp
from kappanb.monitor.sample import Sample

RUN = (7, "a" * 32)


def sample(behind: int, checkpoints: int, state: str = "RUNNING", watermark: int = 0) -> Sample:
    return Sample(
        at=0.0, state=state, checkpoints=checkpoints, watermark_ms=watermark,
        end_offsets={"t": {0: 10_000}}, read_positions={"t": {0: 10_000 - behind}},
    )  # fmt: skip


def test_three_close_polls_and_a_checkpoint_since_make_it_caught_up() -> None:
    polled = PolledCatchUp(threshold=1000)
    assert not polled.update(RUN, sample(5000, 1))  # far behind
    assert not polled.update(RUN, sample(900, 1))  # close, 1 of 3
    assert not polled.update(RUN, sample(10, 1))  # 2 of 3
    assert not polled.update(RUN, sample(0, 1))  # 3 of 3, but no checkpoint since it got close
    assert polled.update(RUN, sample(0, 2))  # a checkpoint committed the output
    assert polled.update(RUN, sample(200, 2))  # still within the threshold


def test_a_run_that_falls_behind_again_is_judged_afresh() -> None:
    polled = PolledCatchUp(threshold=100, hold=1)
    assert not polled.update(RUN, sample(0, 1))
    assert polled.update(RUN, sample(0, 2))
    assert not polled.update(RUN, sample(500, 3))  # a burst at the head
    assert not polled.update(RUN, sample(0, 3))  # close again, but no new checkpoint yet
    assert polled.update(RUN, sample(0, 4))


def test_a_stopped_run_or_a_lagging_watermark_is_not_caught_up() -> None:
    polled = PolledCatchUp(hold=1)
    assert not polled.update(RUN, sample(0, 1, state="CANCELED"))
    assert not polled.update(RUN, sample(0, 2, state="CANCELED"))
    replay = (8, "b" * 32)
    for checkpoints in (1, 2, 3):  # its live run's watermark is a minute ahead; delay 5 s
        assert not polled.update(replay, sample(0, checkpoints), watermark_delay_ms=5000,
                                 live_watermark_ms=60_000)  # fmt: skip
    close = {"watermark_delay_ms": 5000, "live_watermark_ms": 60_000}
    assert not polled.update(replay, sample(0, 4, watermark=58_000), **close)  # close now
    assert polled.update(replay, sample(0, 5, watermark=58_000), **close)  # and committed


def test_runs_no_longer_shown_are_forgotten_and_a_resumed_run_starts_afresh() -> None:
    polled = PolledCatchUp(hold=1)
    polled.update(RUN, sample(0, 1))
    assert polled.update(RUN, sample(0, 2))
    polled.forget_all_but(set())
    assert not polled.update(RUN, sample(0, 2))  # no memory of the earlier polls
    resumed = (RUN[0], "c" * 32)  # the same run, resumed as another Flink job
    assert not polled.update(resumed, sample(0, 2))
