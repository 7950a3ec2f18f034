"""The handoff of a replay from the archive and its checks (no I/O): one past the last
archived offset of each partition, refused where the archive and the log leave a gap."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kappanb.core.positions import read_range
from kappanb.core.schema import parse_columns
from kappanb.exceptions import ArchiveNotFoundError, ArchiveReplayError, StartPositionError
from kappanb.history.archive_replay import (
    check_archive_range,
    check_malformed,
    handoff,
    handoff_offsets,
    handoffs_of,
    plan_handoffs,
    snapshots_text,
)
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import JobVersion, RunRecord, TopicSpec
from kappanb.runs.run_metrics import start_at
from kappanb.tables.archive_coverage import PinnedArchive
from kappanb.tables.catalog import DEFAULT_NAMESPACE, CatalogLocation, init_catalog
from kappanb.versions.archive_source import Handoff

TOPIC = TopicSpec(name="t.v1", table="t_v1", columns=parse_columns("id BIGINT"), partitions=3)
VERSION = JobVersion(
    job="ids", version=2, kind="sql", text="SELECT id FROM t_v1", digest="0" * 64,
    created_at="", output=(), key=(), updating=False, sources=("t.v1",),
)  # fmt: skip
CMD = "replay ids v2"


def pinned(coverage: dict[int, tuple[int, int]], bad: int = 0) -> PinnedArchive:
    return PinnedArchive(77, coverage, bad, (1, 5) if bad else None)


def test_the_handoff_is_one_past_the_last_archived_offset() -> None:
    # partition 0: archived 0..99, the log kept from 60; partition 1: archived 0..9, log
    # from 0; partition 2: nothing archived and nothing deleted: all from the log
    found = handoff(CMD, "t.v1", pinned({0: (0, 99), 1: (0, 9)}), {0: 60, 1: 0, 2: 0})
    assert found == Handoff("t.v1", 77, {0: 100, 1: 10, 2: 0})


def test_the_archive_meeting_the_log_exactly_is_no_gap() -> None:
    assert handoff(CMD, "t.v1", pinned({0: (0, 99)}), {0: 100}).offsets == {0: 100}


def test_a_gap_between_the_archive_and_the_log_is_refused() -> None:
    with pytest.raises(ArchiveReplayError) as refused:
        handoff(CMD, "t.v1", pinned({0: (0, 99), 1: (0, 50)}), {0: 10, 1: 60})
    message = str(refused.value)
    assert "partition 1" in message and "offsets 51 to 59 are in neither" in message
    assert "Nothing was started" in message and "earliest-available" in message


def test_a_partition_the_archive_lacks_and_the_log_lost_is_refused() -> None:
    with pytest.raises(ArchiveReplayError, match="holds nothing of partition 2"):
        handoff(CMD, "t.v1", pinned({0: (0, 9)}), {0: 0, 2: 3})


def test_an_archive_that_began_after_deletions_is_refused() -> None:
    with pytest.raises(ArchiveReplayError, match="starts partition 0 at offset 40"):
        handoff(CMD, "t.v1", pinned({0: (40, 99)}), {0: 40})


def test_malformed_archived_records_refuse_a_fail_fast_topic_only() -> None:
    strict = replace(TOPIC, on_malformed="fail")
    with pytest.raises(ArchiveReplayError) as refused:
        check_malformed(CMD, strict, pinned({0: (0, 9)}, bad=2))
    message = str(refused.value)
    assert "2 malformed record(s), the first at partition 1 offset 5" in message
    assert "--on-malformed dlq" in message and "--from 1:6" in message
    check_malformed(CMD, TOPIC, pinned({0: (0, 9)}, bad=2))  # routed: left out
    check_malformed(CMD, strict, pinned({0: (0, 9)}))  # none: fine


def test_archive_ranges_the_run_cannot_have_are_refused_before_the_stack() -> None:
    check_archive_range(VERSION, [TOPIC], read_range("archive", "latest"))
    check_archive_range(VERSION, [TOPIC], read_range("archive", None))
    with pytest.raises(StartPositionError, match="ends at the log's head"):
        check_archive_range(VERSION, [TOPIC], read_range("archive", "2026-03-04"))
    compacted = replace(TOPIC, compact=True, key="id")
    with pytest.raises(StartPositionError, match="compacted"):
        check_archive_range(VERSION, [compacted], read_range("archive", None))


def test_the_record_keeps_the_handoffs_for_resume_and_status() -> None:
    handoffs = {
        "t.v1": Handoff("t.v1", 77, {0: 100, 1: 10}),
        "u.v1": Handoff("u.v1", 9, {0: 3}),
    }
    run = RunRecord(
        id=5, job="ids", version=2, mode="replay", table="ids__v2", group_id="g",
        start="archive", until=None, flink_job_id="", state="RUNNING", started_at="",
        first_offsets=handoff_offsets(handoffs), archive_snapshots=snapshots_text(handoffs),
    )  # fmt: skip
    assert run.first_offsets == "t.v1@0:100,1:10;u.v1@0:3"
    assert run.archive_snapshots == "t.v1@77;u.v1@9"
    assert handoffs_of(run) == handoffs
    assert run.start_label == "archive, then Kafka from t.v1@0:100,1:10;u.v1@0:3"
    assert start_at(run).offsets == {} and start_at(run).millis is None  # first_offsets rule
    assert replace(run, start="earliest", archive_snapshots="").start_label == "earliest"


def test_archive_is_a_start_and_reads_no_offsets_itself() -> None:
    rng = read_range("archive", "latest")
    assert rng.from_archive and rng.bounded and not rng.uses_offsets()
    assert rng.source_options() == {"scan.bounded.mode": "latest-offset"}
    assert not read_range("earliest", None).from_archive


def test_no_archive_table_or_one_without_a_snapshot_is_refused(tmp_path: Path) -> None:
    """Refused from the catalog alone: Kafka (nothing listens here) is never asked."""
    catalog = CatalogLocation("kappanb", tmp_path / "c.db", tmp_path / "w")
    init_catalog(catalog)
    nowhere = KafkaConnection.plain("127.0.0.1:1")
    with pytest.raises(ArchiveNotFoundError) as refused:
        plan_handoffs(catalog, nowhere, CMD, [TOPIC])
    message = str(refused.value)
    assert message.startswith("replay ids v2 --from archive: topic t.v1 has no archive")
    assert "`archive t.v1`" in message and "Nothing was started" in message
    from pyiceberg.schema import Schema
    from pyiceberg.types import LongType, NestedField

    fields = NestedField(1, "kafka_partition", LongType()), NestedField(2, "id", LongType())
    catalog.open().create_table((DEFAULT_NAMESPACE, "archive__t_v1"), Schema(*fields))
    with pytest.raises(ArchiveNotFoundError, match="has committed nothing yet"):
        plan_handoffs(catalog, nowhere, CMD, [TOPIC])
