"""The SQL text of a topic's archive (no I/O): the Kafka source with the record's metadata,
the raw key and the value's bytes, the append-only Iceberg table, the INSERT."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kappanb.core.schema import parse_columns
from kappanb.exceptions import ArchiveColumnError
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import TopicSpec
from kappanb.versions.archive_ddl import (
    archive_columns,
    archive_group,
    archive_job,
    archive_statements,
    archive_table,
    check_archivable,
    insert_sql,
    sink_ddl,
    source_ddl,
)

KAFKA = KafkaConnection.plain("b:1")
RIDES = TopicSpec(
    name="rides.trips.v1",
    table="rides_trips_v1",
    columns=parse_columns("trip_id STRING NOT NULL, fare BIGINT, ts TIMESTAMP(3)"),
    event_time="ts",
    watermark_ms=5_000,
    partitions=3,
)


def test_names_keep_out_of_the_way_of_jobs() -> None:
    assert archive_table(RIDES) == "archive__rides_trips_v1"
    assert archive_job(RIDES.name) == "archive.rides.trips.v1"  # a dot: never a job's name
    assert archive_group(RIDES) == "kappanb.archive.rides.trips.v1"


def test_the_source_reads_every_record_from_the_earliest_offset() -> None:
    text = source_ddl(RIDES, KAFKA, archive_group(RIDES))
    assert text.startswith("CREATE TEMPORARY TABLE `_kappanb_archive_rides_trips_v1` (")
    for line in (
        "`kafka_partition` INT METADATA FROM 'partition' VIRTUAL",
        "`kafka_offset` BIGINT METADATA FROM 'offset' VIRTUAL",
        "`kafka_timestamp` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL",
        "`kafka_key` BYTES,",
        "`kafka_value` BYTES METADATA FROM 'value.bytes' VIRTUAL",
        "`parse_error` STRING METADATA FROM 'value.error' VIRTUAL",
        "'scan.startup.mode' = 'earliest-offset'",
        "'properties.group.id' = 'kappanb.archive.rides.trips.v1'",
        "'key.format' = 'raw'",
        "'key.fields' = 'kafka_key'",
        "'value.format' = 'kappa-json'",
        "'value.fields-include' = 'EXCEPT_KEY'",
        "'value.kappa-json.fail-on-missing-field' = 'true'",
        # declared NOT NULL: nullable in the table, checked by the format (malformed if null)
        "'value.kappa-json.not-null' = 'trip_id'",
        "`trip_id` STRING,",
    ):
        assert line in text, line
    # No watermark, no clock: the archive keeps records, it computes nothing on time.
    assert "WATERMARK" not in text and "rides.trips.v1.clock" not in text
    assert "'topic' = 'rides.trips.v1'" in text


def test_the_table_is_append_only_with_the_record_then_the_declared_columns() -> None:
    names = [c.name for c in archive_columns(RIDES)]
    assert names == [
        "kafka_partition", "kafka_offset", "kafka_timestamp", "kafka_key", "kafka_value",
        "parse_error", "trip_id", "fare", "ts",
    ]  # fmt: skip
    text = sink_ddl("kappanb", RIDES)
    assert text.startswith("CREATE TABLE `kappanb`.`default`.`archive__rides_trips_v1` (")
    assert "`trip_id` STRING," in text and "NOT NULL" not in text
    assert "PRIMARY KEY" not in text and "upsert" not in text
    assert "'format-version' = '2'" in text


def test_the_insert_copies_every_column_without_a_filter() -> None:
    text = insert_sql("kappanb", RIDES)
    assert text.splitlines()[0] == "INSERT INTO `kappanb`.`default`.`archive__rides_trips_v1`"
    assert text.splitlines()[1].startswith("SELECT `kafka_partition`, `kafka_offset`")
    assert "FROM `_kappanb_archive_rides_trips_v1`" in text and "WHERE" not in text


def test_a_restore_does_not_create_the_table_again() -> None:
    created = archive_statements(RIDES, KAFKA, "kappanb", create_table=True)
    restored = archive_statements(RIDES, KAFKA, "kappanb", create_table=False)
    assert [s.split(None, 2)[:2] for s in created] == [
        ["CREATE", "TEMPORARY"], ["CREATE", "TABLE"], ["INSERT", "INTO"],
    ]  # fmt: skip
    assert restored == [created[0], created[2]]


def test_a_declared_column_named_like_a_record_column_is_refused() -> None:
    clashing = replace(RIDES, columns=parse_columns("kafka_offset BIGINT, fare BIGINT"))
    with pytest.raises(ArchiveColumnError, match="declares kafka_offset"):
        check_archivable(clashing)
    check_archivable(RIDES)  # no clash: no error


def test_a_table_named_like_a_version_is_refused() -> None:
    """``archive__v2`` would be job ``archive``'s v2 output."""
    with pytest.raises(ArchiveColumnError, match="another --table"):
        check_archivable(replace(RIDES, table="v2"))
