"""Late drops counted across Flink's restarts of a job (no I/O: samples built by hand)."""

from __future__ import annotations

from kappanb.monitor.late_tally import LateTally
from kappanb.monitor.polled import PolledCatchUp
from kappanb.monitor.sample import Sample


def _sample(late: int | None) -> Sample:
    return Sample(at=0.0, state="RUNNING", late_dropped=late)


def test_a_count_that_starts_again_after_a_restart_is_added_to_the_one_before() -> None:
    tally = LateTally()
    seen = [tally(_sample(n)).late_dropped for n in (None, 5, 36, 0, None, 10, 12)]
    # 36 before the restart stay missing from the output: 0 after it means 36 so far
    assert seen == [None, 5, 36, 36, None, 46, 48]


def test_a_count_that_holds_or_grows_is_taken_as_it_is() -> None:
    tally = LateTally()
    assert [tally(_sample(n)).late_dropped for n in (0, 0, 3, 3, 7)] == [0, 0, 3, 3, 7]


def test_the_panel_keeps_a_tally_per_run_between_polls() -> None:
    polled = PolledCatchUp()
    a, b = (1, "a" * 32), (2, "b" * 32)
    assert polled.counted(a, _sample(30)).late_dropped == 30
    assert polled.counted(b, _sample(4)).late_dropped == 4
    assert polled.counted(a, _sample(2)).late_dropped == 32  # a restarted, b did not
    assert polled.counted(b, _sample(5)).late_dropped == 5
    polled.forget_all_but({b})
    assert polled.counted(a, _sample(2)).late_dropped == 2  # a new run: judged afresh
