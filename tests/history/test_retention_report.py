"""The retention report's figures and words, and which replay starts need deleted
records (no I/O: extents built by hand)."""

from __future__ import annotations

import pytest

from kappanb.core.positions import read_range
from kappanb.history.retention_report import ArchiveCoverage, ReplayRate, RetentionReport, moment
from kappanb.kafka.log_extent import LogExtent, PartitionExtent
from kappanb.registry.records import JobVersion, RunRecord, TopicSpec
from kappanb.runs.retention import (
    archive_read,
    archive_side_done,
    bounded_read,
    history_gaps,
    needed_offsets,
    refusal,
)

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


def test_a_full_replay_that_needs_the_archive_counts_its_rows_then_the_log_after_it() -> None:
    # Partition 0 lost 0-1999; the archive holds 0-2499 of it, 2,400 rows (a deletion
    # request took 100 out), nothing of partition 1: the handoffs are 2500 and 0.
    archive = ArchiveCoverage.of_ranges({0: (0, 2499)}, rows=2400)
    report = RetentionReport(extent(), archive, rates=[rate(10_000, 10.0)])
    (measured,) = report.rates
    assert report.archive_serves and report.log_after_archive == (5000 - 2500) + 4000
    assert report.full_replay_records == report.eta_records == 2400 + 2500 + 4000
    assert report.eta_s(measured) == pytest.approx(8900 / 999)  # not the log's 7,000
    line = ("full replay ETA: reading the 2,400 records of the archive, then the 6,500 "
            "records of the log from where the archive ends (replay --from archive)")  # fmt: skip
    assert line in str(report) and line in report._repr_html_()


def test_the_eta_says_when_it_counts_only_what_the_log_has() -> None:
    measured = [rate(10_000, 10.0)]
    gone = RetentionReport(extent(), rates=measured)  # no archive: no full replay
    assert gone.full_replay_records is None and gone.eta_records == gone.log_records == 7000
    assert ("full replay ETA: reading only the 7,000 records the log still has (a full "
            "replay is not possible: the early records are gone)") in str(gone)  # fmt: skip
    unknown = RetentionReport(extent(), ArchiveCoverage(True, upto={0: 2500}), measured)
    assert unknown.full_replay_possible and not unknown.archive_serves
    assert unknown.eta_records == 7000 and "the archive's records are not known" in str(unknown)
    late = RetentionReport(extent(), ArchiveCoverage.of_ranges({0: (0, 2499), 1: (5, 9)}, 2505))
    assert not late.archive_serves  # `--from archive` refuses an archive not from 0
    whole = (PartitionExtent(0, 0, 10, T0), PartitionExtent(1, 0, 5, T0))
    kept = RetentionReport(extent(whole), ArchiveCoverage.of_ranges({0: (0, 3)}, 4), measured)
    assert kept.full_replay_records == kept.eta_records == 15  # the log from 0, not more
    assert "full replay ETA: reading the 15 records of the log, from offset 0" in str(kept)


def test_a_replay_from_the_archive_shows_what_it_read_of_the_archive() -> None:
    from_archive = ReplayRate("counts", 1, 7, "FINISHED", 3000, 2.0, from_archive=2000)
    report = RetentionReport(extent(), rates=[from_archive])
    assert from_archive.per_s == pytest.approx(1500.0)  # both sides over the job's time
    assert "3,000 (2,000 from the archive)" in str(report)


TOPIC = TopicSpec("pay.v1", "payments", ())


def archive_run(snapshots: str) -> RunRecord:
    return RunRecord(
        8, "counts", 1, "replay", "counts__v1", "g", "archive", "latest", "f", "RUNNING", "",
        first_offsets="pay.v1@0:2500,1:0", archive_snapshots=snapshots,
    )  # fmt: skip


def test_the_archive_side_counts_once_flink_has_read_it() -> None:
    history = "Source: _kappanb_history_payments[1] -> Calc[2]"
    reading = {"state": "RUNNING", "vertices": [
        {"name": history, "status": "RUNNING"},
        {"name": "Source: _kappanb_tail_payments[3] -> Sink", "status": "RUNNING"},
    ]}  # fmt: skip
    assert not archive_side_done(reading, TOPIC)
    done = {**reading, "vertices": [{"name": history, "status": "FINISHED"}]}
    assert archive_side_done(done, TOPIC)
    other = {"state": "RUNNING", "vertices": [
        {"name": "Source: _kappanb_history_payments2[1]", "status": "FINISHED"}]}  # fmt: skip
    assert not archive_side_done(other, TOPIC)  # another topic's archive
    assert archive_side_done({"state": "FINISHED", "vertices": []}, TOPIC)
    # Not read from the archive: none of its rows; still reading it: not known yet.
    assert archive_read(None, archive_run(""), TOPIC, reading) == 0
    assert archive_read(None, archive_run("other.v1@5"), TOPIC, done) == 0
    assert archive_read(None, archive_run("pay.v1@5"), TOPIC, reading) is None
