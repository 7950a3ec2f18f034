"""A topic read up to a cut (the older version of a followed topic), as samples judge it."""

from __future__ import annotations

from kappanb.monitor.bounded_reads import BoundedRead, capped, positions_with
from kappanb.monitor.log_waiter import covers, read_positions
from kappanb.monitor.sample import Sample, finished_sources

OLDER = BoundedRead("rides.trips.v1", "_kappanb_older_rides_trips_v2", {0: 120, 1: 98})
VERTICES = [
    {"name": "Source: _kappanb_older_rides_trips_v2[1] -> Calc[2]", "status": "FINISHED"},
    {"name": "Source: _kappanb_log_rides_trips_v2[3] -> Calc[4]", "status": "RUNNING"},
    {"name": "GlobalWindowAggregate[6]", "status": "RUNNING"},
]


def sample(**changes: object) -> Sample:
    base: dict[str, object] = {
        "at": 0.0,
        "state": "RUNNING",
        # The older topic's log went on past the cut (an outside producer): 130 and 99.
        "end_offsets": {"rides_trips_v1": {0: 130, 1: 99}, "rides_trips_v2": {0: 50}},
        "read_positions": {"rides_trips_v1": {0: 60}, "rides_trips_v2": {0: 50}},
        "committed": {"rides_trips_v1": {0: 40}, "rides_trips_v2": {0: 50}},
    }
    return Sample(**{**base, **changes})  # type: ignore[arg-type]


def test_while_the_older_side_reads_its_target_is_the_cut() -> None:
    judged = capped(sample(), [OLDER])
    assert judged.end_offsets["rides_trips_v1"] == {0: 120, 1: 98}
    assert judged.behind() == {
        ("rides_trips_v1", 0): 60,  # 120 - 60, not 130 - 60
        ("rides_trips_v1", 1): 98,  # not read yet
        ("rides_trips_v2", 0): 0,
    }


def test_a_finished_older_source_has_read_to_the_cut_though_it_reports_nothing() -> None:
    finished = finished_sources(VERTICES)
    assert finished == ("Source: _kappanb_older_rides_trips_v2[1] -> Calc[2]",)
    judged = capped(sample(finished_sources=finished), [OLDER])
    assert judged.behind_total == 0
    assert covers(read_positions(judged), judged.end_offsets)
    # Its group's commits stopped short: a waiter counts on the read positions instead.
    assert not covers(judged.committed, judged.end_offsets)


def test_a_finished_source_of_another_table_does_not_count() -> None:
    other = ("Source: _kappanb_older_rides_trips_v20[1]",)  # a name that only starts alike
    judged = capped(sample(finished_sources=other), [OLDER])
    assert judged.behind_total == 60 + 98


def test_a_finished_job_has_read_every_bounded_topic() -> None:
    judged = capped(sample(state="FINISHED"), [OLDER])
    assert judged.behind_total == 0


def test_status_positions_of_a_finished_older_source_are_the_cut() -> None:
    reported = {"rides_trips_v2": {0: 50}}  # the finished source reports no offsets
    found = positions_with(reported, [OLDER], finished_sources(VERTICES))
    assert found == {"rides_trips_v2": {0: 50}, "rides_trips_v1": {0: 120, 1: 98}}
    assert positions_with(reported, [OLDER], ()) == reported


def test_without_bounded_reads_a_sample_is_unchanged() -> None:
    plain = sample()
    assert capped(plain, []) is plain
