"""The retention report's figures and words, and which replay starts need deleted
records (no I/O: extents built by hand)."""

from __future__ import annotations

import pytest

from kappanb.core.positions import read_range
from kappanb.history.retention_report import ArchiveCoverage, ReplayRate, RetentionReport, moment
from kappanb.kafka.log_extent import LogExtent, PartitionExtent
from kappanb.registry.records import JobVersion, RunRecord
from kappanb.runs.retention import bounded_read, history_gaps, needed_offsets, refusal

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00 UTC
TRUNCATED = (PartitionExtent(0, 2000, 5000, T0 + 2000, recent=60),
             PartitionExtent(1, 0, 4000, T0, recent=0))  # fmt: skip
VERSION = JobVersion("counts", 2, "sql", "SELECT 1", "d", "")


def extent(parts: tuple[PartitionExtent, ...] = TRUNCATED, window_ms: int = 60_000) -> LogExtent:
    return LogExtent("pay.v1", parts, 86_400_000, T0 + 10_000, window_ms)


def rate(records: int, seconds: float) -> ReplayRate:
    return ReplayRate("counts", 1, 7, "FINISHED", records, seconds)


def test_what_the_log_still_has_per_partition() -> None:
    report = RetentionReport(extent(), unmeasured="no replay of a job reading it has run yet")
    assert not report.full_replay_from_log and not report.full_replay_possible
    assert report.log_records == 3000 + 4000
    text = str(report)
    assert "retention 24.0 h; 7,000 records in the log" in text
    assert "partition: offsets 0: 0-1999" in text and "a full replay is not possible" in text
    assert moment(T0 + 2000) == "2026-01-01T00:00:02.000" and moment(T0 + 2000) in text
    assert "no: 0-1999 gone" in text and "no archive" in text
    assert "replay throughput: not measured (no replay of a job reading it has run yet)" in text
    html = report._repr_html_()
    assert "<table" in html and "no archive" in html and "not measured" in html


def test_a_log_from_offset_zero_allows_a_full_replay() -> None:
    whole = (PartitionExtent(0, 0, 10, T0), PartitionExtent(1, 0, 0, None))
    report = RetentionReport(extent(whole))
    assert report.full_replay_from_log and report.full_replay_possible
    assert "a full replay from the log alone is possible" in str(report)


def test_an_archive_that_holds_what_the_log_lost_makes_a_full_replay_possible() -> None:
    archive = ArchiveCoverage(exists=True, upto={0: 2500, 1: 100})
    report = RetentionReport(extent(), archive)
    assert not report.full_replay_from_log and report.full_replay_possible
    assert "offsets 0-2499" in str(report)


def test_headroom_and_eta_from_the_measured_throughput_and_the_growth() -> None:
    report = RetentionReport(extent(), rates=[rate(10_000, 10.0)])  # 1,000/s against 1/s
    (measured,) = report.rates
    assert report.extent.growth_per_s == pytest.approx(1.0)
    assert report.headroom(measured) == pytest.approx(1000.0)
    assert report.eta_s(measured) == pytest.approx(7000 / 999)
    assert "1,000/s" in str(report) and "1,000.0x" in str(report) and "7 s" in str(report)


def test_too_little_headroom_is_flagged_and_a_slower_replay_never_catches_up() -> None:
    busy = extent(window_ms=1_000)  # 60 records in a second
    report = RetentionReport(busy, rates=[rate(200, 1.0), rate(40, 1.0)])
    fast, slow = report.rates
    assert report.headroom(fast) == pytest.approx(200 / 60)
    assert "3.3x (below the 5x wanted)" in str(report)
    assert report.eta_s(slow) is None
    assert "never: no faster than the growth" in str(report)


def test_no_growth_means_no_headroom_figure_but_an_eta() -> None:
    quiet = (PartitionExtent(0, 0, 100, T0),)
    report = RetentionReport(extent(quiet), rates=[rate(100, 4.0)])
    (measured,) = report.rates
    assert report.headroom(measured) is None and report.eta_s(measured) == pytest.approx(4.0)
    assert "no growth to outrun" in str(report)


def test_which_starts_need_deleted_records() -> None:
    e = extent()
    earliest = needed_offsets(None, e, read_range("earliest", None))  # type: ignore[arg-type]
    assert history_gaps(e, earliest) == [(0, 0, 2000)]
    offsets = needed_offsets(None, e, read_range("0:1999,1:5", None))  # type: ignore[arg-type]
    assert history_gaps(e, offsets) == [(0, 1999, 2000)]
    enough = needed_offsets(None, e, read_range("0:2000", None))  # type: ignore[arg-type]
    assert history_gaps(e, enough) == []  # partition 1 from its start: 0, still there


def test_the_refusal_gives_the_report_and_the_ways_out() -> None:
    report = RetentionReport(extent())
    text = refusal(VERSION, read_range(None, None), report, [(0, 0, 2000)])
    assert text.startswith("replay counts v2 --from earliest needs records of pay.v1")
    assert "partition 0 from offset 0, but its log starts at 2000" in text
    assert "Nothing was started" in text and str(report) in text
    assert "`replay counts v2 --from 2026-01-01T00:00:02.000`" in text
    assert "`replay counts v2 --from earliest-available`" in text
    assert "`replay counts v2 --from archive`: the history from the archive of pay.v1" in text


def test_a_finished_bounded_replay_read_from_where_it_began_to_its_end() -> None:
    run = RunRecord(
        7, "counts", 1, "replay", "counts__v1", "g", "earliest-available", "latest", "f",
        "FINISHED", "", first_offsets="pay.v1@0:2000,1:0", end_offsets="pay.v1@0:5000,1:4000",
    )  # fmt: skip
    assert bounded_read(None, run, "pay.v1") == 3000 + 4000  # type: ignore[arg-type]


def test_coverage_from_archived_ranges_says_which_start_at_zero() -> None:
    archive = ArchiveCoverage.of_ranges({0: (0, 2499), 1: (40, 99)})
    assert archive.upto == {0: 2500} and archive.later == {1: (40, 99)}
    assert archive.describe(0) == "offsets 0-2499"
    assert archive.describe(1) == "offsets 40-99 (not from 0)"
    assert archive.describe(2) == "nothing"
    report = RetentionReport(extent(), archive)
    assert report.full_replay_possible  # partition 0 lost 0-1999, all archived; 1 has all
    gone = RetentionReport(extent(), ArchiveCoverage.of_ranges({0: (5, 2499)}))
    assert not gone.full_replay_possible  # 0-4 went before the archive read them
