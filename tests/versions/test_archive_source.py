"""The SQL of a replay from the archive (no I/O): the archive at a pinned snapshot with a
source watermark, the Kafka side from the handoff offsets, and the view joining them."""

from __future__ import annotations

from dataclasses import replace

from kappanb.core.schema import parse_columns
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import TopicSpec
from kappanb.versions.archive_source import (
    Handoff,
    history_ddl,
    source_statements,
    tail_range,
    union_view_ddl,
)

KAFKA = KafkaConnection.plain("b:1")
RIDES = TopicSpec(
    name="rides.trips.v1",
    table="rides_trips_v1",
    columns=parse_columns("trip_id STRING NOT NULL, fare BIGINT, ts TIMESTAMP(3)"),
    event_time="ts",
    watermark_ms=5_000,
    partitions=2,
)
HANDOFF = Handoff("rides.trips.v1", 4242, {1: 98, 0: 120})
CATALOG = {"type": "iceberg", "catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
           "uri": "jdbc:sqlite:/c.db", "default-database": "default"}  # fmt: skip


def test_the_history_is_the_pinned_snapshot_with_a_source_watermark() -> None:
    text = history_ddl(RIDES, HANDOFF, "kappanb", CATALOG)
    assert text.startswith("CREATE TEMPORARY TABLE `_kappanb_history_rides_trips_v1` (")
    # the declared columns as the archive keeps them: nullable, and why a record is bad
    columns = "`trip_id` STRING,\n  `fare` BIGINT,\n  `ts` TIMESTAMP(3),\n  "
    columns += "`kafka_value` BYTES,\n  `parse_error` STRING"
    assert columns in text
    assert "WATERMARK FOR `ts` AS SOURCE_WATERMARK()" in text
    for option in ("'connector' = 'iceberg'", "'catalog-name' = 'kappanb'",
                   "'catalog-database' = 'default'",
                   "'catalog-table' = 'archive__rides_trips_v1'", "'snapshot-id' = '4242'",
                   "'watermark-column' = 'ts'", "'uri' = 'jdbc:sqlite:/c.db'",
                   "'catalog-impl' = 'org.apache.iceberg.jdbc.JdbcCatalog'"):  # fmt: skip
        assert option in text
    assert "'type'" not in text and "'default-database'" not in text  # CREATE CATALOG's
    assert "kafka_offset" not in text  # of the record's columns, only its value is read


def test_a_topic_without_event_time_has_no_watermark() -> None:
    plain = replace(RIDES, event_time=None)
    text = history_ddl(plain, HANDOFF, "kappanb", CATALOG)
    assert "WATERMARK" not in text and "watermark-column" not in text


def test_the_log_side_starts_at_the_handoff_offsets() -> None:
    assert HANDOFF.tail_start() == "0:120,1:98"
    rng = tail_range(HANDOFF, "latest")
    assert rng.source_options() == {
        "scan.startup.mode": "specific-offsets",
        "scan.startup.specific-offsets": "partition:0,offset:120;partition:1,offset:98",
        "scan.bounded.mode": "latest-offset",
    }


def test_the_view_is_the_archive_then_the_log() -> None:
    history, log, tail, view = source_statements(
        RIDES, KAFKA, "g", HANDOFF, None, "kappanb", CATALOG
    )
    assert "connector' = 'iceberg'" in history
    # a clocked, routed topic: its Kafka table, then the view of its valid own events
    assert log.startswith("CREATE TEMPORARY TABLE `_kappanb_log_rides_trips_v1`")
    assert "'scan.startup.specific-offsets' = 'partition:0,offset:120;partition:1,offset:98'" in log
    assert "'topic' = 'rides.trips.v1'" in log  # no clock: a run from offsets reads one topic
    assert "WATERMARK FOR `ts` AS `ts` - INTERVAL '5' SECOND" in log
    assert tail.startswith("CREATE TEMPORARY VIEW `_kappanb_tail_rides_trips_v1` AS")
    assert "`_kappanb_error` IS NULL" in tail
    assert view == union_view_ddl(RIDES)
    assert view == (
        "CREATE TEMPORARY VIEW `rides_trips_v1` AS\n"
        "SELECT `trip_id`, `fare`, `ts` FROM `_kappanb_history_rides_trips_v1`\n"
        "WHERE `parse_error` IS NULL AND `kafka_value` IS NOT NULL\n"  # as runs skip them
        "UNION ALL\nSELECT `trip_id`, `fare`, `ts` FROM `_kappanb_tail_rides_trips_v1`"
    )


def test_a_plain_topic_reads_its_kafka_table_as_the_tail() -> None:
    plain = replace(RIDES, event_time=None, on_malformed="fail")
    _history, tail, view = source_statements(plain, KAFKA, "g", HANDOFF, "latest", "c", CATALOG)
    assert tail.startswith("CREATE TEMPORARY TABLE `_kappanb_tail_rides_trips_v1` (")
    assert "'scan.bounded.mode' = 'latest-offset'" in tail
    assert "FROM `_kappanb_tail_rides_trips_v1`" in view
