"""Records past a sealed topic's cut, without Kafka: the warning's words and which chains
`status NAME` speaks of (tests/runs/test_versioned_topics.py counts them on the stack)."""

from __future__ import annotations

from dataclasses import replace

from kappanb.history.past_cut import PastCut, followers_in_scope
from kappanb.registry.records import JobVersion, TopicSpec
from kappanb.runs.report import StatusReport

V1 = TopicSpec(name="rides.trips.v1", table="rides_trips_v1", columns=(), partitions=2)
V2 = replace(V1, name="rides.trips.v2", table="rides_trips_v2", follows=V1.name, cut="0:9,1:4")
OTHER = replace(V1, name="orders.v1", table="orders_v1")


def version(job: str, *sources: str) -> JobVersion:
    return JobVersion(job, 1, "sql", "SELECT 1", "d", "now", sources=sources)


def test_the_warning_names_each_partition_and_where_the_records_go() -> None:
    text = str(PastCut(V1.name, V2.name, {1: 2, 0: 10}))
    assert text == (
        "rides.trips.v1 has 12 records past its cut (partition 0: 10, partition 1: 2): no "
        "run of rides.trips.v2 reads them (it reads rides.trips.v1 up to the cut); produce "
        "them to rides.trips.v2"
    )
    assert "has 1 record past" in str(PastCut(V1.name, V2.name, {0: 1}))


def test_status_of_a_job_a_topic_or_all_speaks_of_the_chains_in_it() -> None:
    topics = [V1, V2, OTHER, replace(V2, name="unsealed.v2", cut="")]
    versions = [version("fares", V2.name), version("orders", OTHER.name)]
    assert followers_in_scope(topics, versions, None) == [V2]  # a chain with no cut: none
    assert followers_in_scope(topics, versions, "fares") == [V2]
    assert followers_in_scope(topics, versions, V1.name) == [V2]
    assert followers_in_scope(topics, versions, V2.name) == [V2]
    assert followers_in_scope(topics, versions, "orders") == []


def test_the_status_report_shows_warnings_with_or_without_runs() -> None:
    warning = str(PastCut(V1.name, V2.name, {0: 3}))
    report = StatusReport([], [warning])
    assert str(report) == f"no runs yet: start one with `run NAME`\nwarning: {warning}"
    assert "<b>warning</b>: rides.trips.v1 has 3 records" in report._repr_html_()
    assert "warning" not in str(StatusReport([]))
