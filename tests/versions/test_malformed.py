"""The SQL around a topic whose malformed events go to a dead-letter topic."""

from __future__ import annotations

from dataclasses import replace

from kappanb.core.positions import ReadRange
from kappanb.core.schema import parse_columns
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import TopicSpec
from kappanb.versions.ddl import source_ddl, source_statements
from kappanb.versions.malformed import (
    RunIdentity,
    dlq_insert,
    dlq_sink_ddl,
    fail_fast_hint,
    routes,
    view_ddl,
)

KAFKA = KafkaConnection.plain("b:1")

PAYMENTS = TopicSpec(
    name="payments.captured.v1",
    table="payments_captured_v1",
    columns=parse_columns("payment_id STRING NOT NULL, amount BIGINT, ts TIMESTAMP(3)"),
    event_time="ts",
    watermark_ms=5_000,
)


def test_default_policy_routes_to_topic_dot_dlq() -> None:
    assert PAYMENTS.dlq_topic == "payments.captured.v1.dlq"
    assert routes(PAYMENTS)
    assert replace(PAYMENTS, dlq="bad.payments").dlq_topic == "bad.payments"
    assert replace(PAYMENTS, on_malformed="fail").dlq_topic is None
    assert not routes(replace(PAYMENTS, on_malformed="fail"))


def test_routed_source_is_a_log_table_with_error_metadata_and_nullable_columns() -> None:
    ddl = source_ddl(PAYMENTS, KAFKA, "g", ReadRange())
    assert ddl.startswith("CREATE TEMPORARY TABLE `_kappanb_log_payments_captured_v1` (\n")
    assert "`payment_id` STRING,\n" in ddl  # NOT NULL is checked by the format instead
    assert "NOT NULL" not in ddl
    for part in (
        "`_kappanb_error` STRING METADATA FROM 'value.error' VIRTUAL",
        "`_kappanb_raw` STRING METADATA FROM 'value.raw' VIRTUAL",
        "`_kappanb_raw_encoding` STRING METADATA FROM 'value.raw-encoding' VIRTUAL",
        "`_kappanb_partition` INT METADATA FROM 'partition' VIRTUAL",
        "`_kappanb_offset` BIGINT METADATA FROM 'offset' VIRTUAL",
        "WATERMARK FOR `ts` AS `ts` - INTERVAL '5' SECOND",
        "'format' = 'kappa-json'",
        "'kappa-json.fail-on-missing-field' = 'true'",
        "'kappa-json.ignore-parse-errors' = 'false'",
        "'kappa-json.not-null' = 'payment_id'",
    ):
        assert part in ddl, part
    assert "'format' = 'json'" not in ddl


def test_the_job_reads_a_view_of_the_valid_events_with_the_declared_columns() -> None:
    table, view = source_statements(PAYMENTS, KAFKA, "g", ReadRange())
    assert table == source_ddl(PAYMENTS, KAFKA, "g", ReadRange())
    assert view == (
        "CREATE TEMPORARY VIEW `payments_captured_v1` AS\n"
        "SELECT `payment_id`, `amount`, `ts` FROM `_kappanb_log_payments_captured_v1` "
        "WHERE `_kappanb_error` IS NULL AND `_kappanb_topic` = 'payments.captured.v1'"
    )  # the topic's own records, not its clock's heartbeats (kappanb.kafka.clock)
    assert view_ddl(PAYMENTS, clocked=True) == view


def test_fail_fast_topics_without_event_time_and_compacted_topics_have_no_view() -> None:
    fail = replace(PAYMENTS, on_malformed="fail", event_time=None)
    (only,) = source_statements(fail, KAFKA, "g", ReadRange())
    assert only.startswith("CREATE TEMPORARY TABLE `payments_captured_v1` (")
    # With an event time, the view keeps the topic's own records from those of its clock.
    _table, view = source_statements(replace(fail, event_time="ts"), KAFKA, "g", ReadRange())
    assert view.endswith("WHERE `_kappanb_topic` = 'payments.captured.v1'")
    compacted = replace(PAYMENTS, compact=True, key="payment_id", on_malformed="fail")
    assert len(source_statements(compacted, KAFKA, "g", ReadRange())) == 1


def test_dlq_sink_and_insert_carry_reason_payload_position_and_run() -> None:
    sink = dlq_sink_ddl(PAYMENTS, KAFKA)
    assert sink.startswith("CREATE TEMPORARY TABLE `_kappanb_dlq_payments_captured_v1` (")
    for part in ("'topic' = 'payments.captured.v1.dlq'", "'format' = 'json'",
                 "'sink.delivery-guarantee' = 'at-least-once'", "reason STRING",
                 "payload STRING", "`offset` BIGINT", "run_id BIGINT"):  # fmt: skip
        assert part in sink, part
    insert = dlq_insert(PAYMENTS, RunIdentity("it's", 3, 17, "replay"))
    assert insert == (
        "INSERT INTO `_kappanb_dlq_payments_captured_v1`\n"
        "SELECT `_kappanb_error`, `_kappanb_raw`, `_kappanb_raw_encoding`, "
        "'payments.captured.v1', `_kappanb_partition`, `_kappanb_offset`, 'it''s', 3, "
        "CAST(17 AS BIGINT), 'replay'\n"
        "FROM `_kappanb_log_payments_captured_v1` WHERE `_kappanb_error` IS NOT NULL"
    )


def test_a_decode_failure_of_a_fail_fast_topic_says_how_to_route_instead() -> None:
    fail = replace(PAYMENTS, on_malformed="fail")
    error = "Unrecognized token 'this': was expecting (JSON String, Number, ...)"
    hinted = fail_fast_hint(error, [fail])
    assert hinted.startswith(error)
    assert "payments.captured.v1, which fails fast" in hinted
    assert "--on-malformed dlq" in hinted and "replay --from" in hinted
    assert fail_fast_hint(error, [PAYMENTS]) == error  # routed: not the reason it failed
    assert fail_fast_hint("TaskManager lost", [fail]) == "TaskManager lost"


def test_kappa_json_failures_of_a_fail_fast_topic_are_hinted_too() -> None:
    fail = replace(PAYMENTS, on_malformed="fail")
    for error in (
        "bad timestamp: field 'ts' is \"yesterday\", not a TIMESTAMP(3): it is too short",
        "field 'payment_id' is missing or null, and the schema declares it NOT NULL",
    ):
        assert "--on-malformed dlq" in fail_fast_hint(error, [fail]), error
