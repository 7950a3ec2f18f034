from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kappanb.core.positions import ReadRange, read_range
from kappanb.core.schema import Column, parse_columns
from kappanb.exceptions import InvalidNameError, StartPositionError
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import JobVersion, TopicSpec
from kappanb.tables.catalog import CatalogLocation
from kappanb.versions.ddl import (
    insert_sql,
    output_columns,
    qualified_table,
    sink_ddl,
    source_ddl,
    source_statements,
)

KAFKA = KafkaConnection.plain("b:1")

PAYMENTS = TopicSpec(
    name="payments.captured.v1",
    table="payments_captured_v1",
    columns=parse_columns("payment_id STRING, merchant_id STRING, amount BIGINT, ts TIMESTAMP(3)"),
    event_time="ts",
    watermark_ms=30_000,
)
MERCHANTS = TopicSpec(
    name="merchants",
    table="merchants",
    columns=parse_columns("merchant_id STRING NOT NULL, name STRING"),
    compact=True,
    key="merchant_id",
)


def _version(updating: bool, key: tuple[str, ...] = ()) -> JobVersion:
    return JobVersion(
        job="daily_merchants",
        version=2,
        kind="sql",
        text="SELECT ...",
        digest="0" * 64,
        created_at="",
        output=(Column("day", "DATE"), Column("merchants", "BIGINT NOT NULL")),
        key=key,
        updating=updating,
        sources=("payments.captured.v1",),
    )


def test_source_ddl_plain_topic_that_fails_fast() -> None:
    topic = replace(PAYMENTS, on_malformed="fail")
    ddl = source_ddl(
        topic, KafkaConnection.plain("127.0.0.1:9092"), "kappanb-daily_merchants-v2-1", ReadRange()
    )
    # With an event time it reads its clock too: the view `payments_captured_v1` keeps the
    # topic's own records (test_a_topic_with_an_event_time_reads_its_clock).
    assert ddl.startswith("CREATE TEMPORARY TABLE `_kappanb_log_payments_captured_v1` (\n")
    assert "`payment_id` STRING, `merchant_id` STRING, `amount` BIGINT, `ts` TIMESTAMP(3)" in ddl
    assert "WATERMARK FOR `ts` AS `ts` - INTERVAL '30' SECOND" in ddl
    assert "PRIMARY KEY" not in ddl
    for option in (
        "'connector' = 'kafka'",
        "'topic' = 'payments.captured.v1;payments.captured.v1.kappanb-clock'",
        "'properties.bootstrap.servers' = '127.0.0.1:9092'",
        "'properties.group.id' = 'kappanb-daily_merchants-v2-1'",
        "'scan.startup.mode' = 'earliest-offset'",
        "'format' = 'kappa-json'",  # its lenient timestamps, failing on a malformed event
        "'kappa-json.fail-on-missing-field' = 'true'",
        "'kappa-json.ignore-parse-errors' = 'false'",
    ):
        assert option in ddl
    assert "value.error" not in ddl  # no error metadata: the format fails the run
    assert "METADATA FROM 'topic'" in ddl  # which topic a row came from
    assert "timestamp-format" not in ddl  # kappa-json parses timestamps itself
    assert ddl.endswith("\n)")


def test_a_topic_with_an_event_time_reads_its_clock() -> None:
    for policy in ("fail", "dlq"):
        topic = replace(PAYMENTS, on_malformed=policy)
        table, view = source_statements(topic, KAFKA, "g", ReadRange())
        assert "'topic' = 'payments.captured.v1;payments.captured.v1.kappanb-clock'" in table
        assert view.startswith("CREATE TEMPORARY VIEW `payments_captured_v1` AS\n")
        assert "FROM `_kappanb_log_payments_captured_v1` WHERE " in view
        assert view.endswith("`_kappanb_topic` = 'payments.captured.v1'")
        assert ("`_kappanb_error` IS NULL" in view) == (policy == "dlq")
    plain = TopicSpec("t", "t", (Column("a", "INT"),), on_malformed="fail")  # no event time
    assert source_statements(plain, KAFKA, "g", ReadRange()) == [
        source_ddl(plain, KAFKA, "g", ReadRange())
    ]
    assert "'topic' = 't'" in source_ddl(plain, KAFKA, "g", ReadRange())


def test_source_ddl_carries_the_read_range() -> None:
    rng = read_range("0:120,1:98", "latest")
    ddl = source_ddl(PAYMENTS, KAFKA, "g", rng)
    # Flink takes start offsets for a single topic: a run from offsets reads no clock.
    assert "'topic' = 'payments.captured.v1'" in ddl
    assert "'scan.startup.mode' = 'specific-offsets'" in ddl
    assert "'scan.startup.specific-offsets' = 'partition:0,offset:120;partition:1,offset:98'" in ddl
    assert "'scan.bounded.mode' = 'latest-offset'" in ddl


@pytest.mark.parametrize(("ms", "text"), [(0, "0"), (1500, "1.5"), (250, "0.25"), (60_000, "60")])
def test_watermark_interval_formatting(ms: int, text: str) -> None:
    topic = TopicSpec(PAYMENTS.name, PAYMENTS.table, PAYMENTS.columns, "ts", ms)
    ddl = source_ddl(topic, KAFKA, "g", ReadRange())
    assert f"AS `ts` - INTERVAL '{text}' SECOND" in ddl


def test_source_ddl_without_event_time_has_no_watermark() -> None:
    topic = TopicSpec("t", "t", (Column("a", "INT"),))
    assert "WATERMARK" not in source_ddl(topic, KAFKA, "g", ReadRange())


def test_source_ddl_compacted_topic_is_upsert_kafka() -> None:
    ddl = source_ddl(
        MERCHANTS, KafkaConnection.plain("127.0.0.1:9092"), "some-group", read_range("latest", None)
    )
    assert ddl.startswith("CREATE TEMPORARY TABLE `merchants` (\n")
    assert "PRIMARY KEY (`merchant_id`) NOT ENFORCED" in ddl
    for option in (
        "'connector' = 'upsert-kafka'",
        "'topic' = 'merchants'",
        "'key.format' = 'raw'",
        "'value.format' = 'kappa-json'",
        "'value.fields-include' = 'ALL'",
        "'value.kappa-json.fail-on-missing-field' = 'true'",
    ):
        assert option in ddl
    assert "group.id" not in ddl
    assert "some-group" not in ddl
    assert "scan.startup" not in ddl
    assert "'connector' = 'kafka'" not in ddl


def test_compact_without_key_is_a_plain_source() -> None:
    topic = TopicSpec("t", "t", (Column("a", "INT"),), compact=True)
    ddl = source_ddl(topic, KAFKA, "g", ReadRange())
    assert "'connector' = 'kafka'" in ddl
    assert "PRIMARY KEY" not in ddl


def test_source_ddl_refuses_back_quoted_table() -> None:
    topic = TopicSpec("t", "t` (x INT) --", (Column("a", "INT"),))
    with pytest.raises(InvalidNameError):
        source_ddl(topic, KAFKA, "g", ReadRange())


def test_sink_ddl_updating() -> None:
    ddl = sink_ddl("kappa", "daily_merchants__v2", _version(True, ("day",)))
    assert ddl.startswith("CREATE TABLE `kappa`.`default`.`daily_merchants__v2` (\n")
    assert "`day` DATE, `merchants` BIGINT NOT NULL,\n  PRIMARY KEY (`day`) NOT ENFORCED" in ddl
    assert "'format-version' = '2'" in ddl
    assert "'write.upsert.enabled' = 'true'" in ddl


def test_sink_ddl_updating_composite_key() -> None:
    ddl = sink_ddl("c", "t", _version(True, ("day", "merchants")))
    assert "PRIMARY KEY (`day`, `merchants`) NOT ENFORCED" in ddl


def test_sink_ddl_append() -> None:
    ddl = sink_ddl("kappa", "daily_merchants__v2", _version(False))
    assert "`day` DATE, `merchants` BIGINT NOT NULL\n)" in ddl
    assert "PRIMARY KEY" not in ddl
    assert "upsert" not in ddl
    assert "'format-version' = '2'" in ddl


def test_insert_sql_and_qualified_table() -> None:
    assert qualified_table("kappa", "x__v1") == "`kappa`.`default`.`x__v1`"
    assert (
        insert_sql("kappa", "x__v1", "SELECT 1")
        == "INSERT INTO `kappa`.`default`.`x__v1`\nSELECT 1"
    )
    assert insert_sql("kappa", "x__v1", "SELECT 1", bounded=True) == (
        "INSERT INTO `kappa`.`default`.`x__v1` /*+ OPTIONS('write-parallelism'='1') */\nSELECT 1"
    )


def test_output_columns_strips_time_attribute_markers() -> None:
    cols = (
        Column("window_start", "TIMESTAMP(3) NOT NULL"),
        Column("ts", "TIMESTAMP(3) *ROWTIME*"),
        Column("pt", "TIMESTAMP_LTZ(3) NOT NULL *PROCTIME*"),
        Column("n", "BIGINT"),
    )
    assert output_columns(cols) == (
        Column("window_start", "TIMESTAMP(3) NOT NULL"),
        Column("ts", "TIMESTAMP(3)"),
        Column("pt", "TIMESTAMP_LTZ(3) NOT NULL"),
        Column("n", "BIGINT"),
    )


def test_options_are_literals_with_quotes_doubled() -> None:
    # Checked names never hold a quote; should one reach the DDL anyway (an old registry,
    # a remote address), it stays inside its literal.
    topic = TopicSpec("o'brien", "obrien", (Column("a", "INT"),))
    ddl = source_ddl(
        topic, KafkaConnection.plain("h:1', 'connector' = 'filesystem"), "g'x", ReadRange()
    )
    assert "'topic' = 'o''brien'" in ddl
    assert "'properties.bootstrap.servers' = 'h:1'', ''connector'' = ''filesystem'" in ddl
    assert "'properties.group.id' = 'g''x'" in ddl
    assert ddl.count("'connector' = ") == 1


def test_catalog_ddl_quotes_paths_with_quotes(tmp_path: Path) -> None:
    home = tmp_path / "it's home"
    location = CatalogLocation("kappanb", home / "catalog.db", home / "warehouse")
    ddl = location.flink_ddl()
    assert ddl.startswith("CREATE CATALOG IF NOT EXISTS `kappanb` WITH (")
    assert f"'uri' = 'jdbc:sqlite:{tmp_path}/it''s home/catalog.db'" in ddl
    with pytest.raises(InvalidNameError, match="back-quote"):
        CatalogLocation("k`x", home / "c.db", home / "w").flink_ddl()


@pytest.mark.parametrize("start", ["\u0663:\u0665", "0:1;DROP", "0:1,", "0:-1", "1:2'"])
def test_offsets_are_ascii_digits_only(start: str) -> None:
    with pytest.raises(StartPositionError, match="is not a position"):
        read_range(start, None)


def test_sink_ddl_carries_table_properties() -> None:
    props = {"flink-maintenance.rewrite.enabled": "true"}
    ddl = sink_ddl("c", "t", _version(True, ("day",)), props)
    assert "'format-version' = '2',\n  'flink-maintenance.rewrite.enabled' = 'true'" in ddl
    assert "'write.upsert.enabled' = 'true'" in ddl
