"""The Flink SQL kappanb generates around a job: source tables, the output table, the INSERT.

Every identifier here passed `kappanb.core.names` checks and is back-quoted; every
option is a string literal with its quotes doubled (`names.literal`), though each is one
kappanb produced (a checked topic name, a number) or the Kafka connection's, never free
text. A Kafka table's options hold the connection's secrets (a JAAS line): the statements
go to Flink and nowhere else; text shown to anyone passes `KafkaConnection.redact` first.
"""

from __future__ import annotations

from collections.abc import Mapping

from kappanb.core.names import literal, quote
from kappanb.core.positions import ReadRange
from kappanb.core.schema import Column, format_columns
from kappanb.kafka.clock import clock_topic
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import JobVersion, TopicSpec
from kappanb.tables.catalog import DEFAULT_NAMESPACE
from kappanb.versions import malformed


def with_clause(options: dict[str, str]) -> str:
    body = ",\n  ".join(f"{literal(k)} = {literal(v)}" for k, v in options.items())
    return f"WITH (\n  {body}\n)"


def _watermark(topic: TopicSpec) -> str:
    if not topic.event_time:
        return ""
    col = quote(topic.event_time)
    seconds = f"{topic.watermark_ms / 1000:.3f}".rstrip("0").rstrip(".")
    return f",\n  WATERMARK FOR {col} AS {col} - INTERVAL '{seconds}' SECOND"


def clocked(topic: TopicSpec) -> bool:
    """Does a run read the topic's clock beside it (`kappanb.kafka.clock`)?"""
    return topic.event_time is not None and not topic.compact


def source_statements(
    topic: TopicSpec, connection: KafkaConnection, group_id: str, rng: ReadRange
) -> list[str]:
    """What makes ``topic.table`` readable: the Kafka table, and for a topic with a
    dead-letter topic (`kappanb.versions.malformed`) or a clock the view of its valid events."""
    table = source_ddl(topic, connection, group_id, rng)
    if malformed.routes(topic) or clocked(topic):
        return [table, malformed.view_ddl(topic, clocked(topic))]
    return [table]


def source_ddl(
    topic: TopicSpec, connection: KafkaConnection, group_id: str, rng: ReadRange,
    name: str | None = None,
) -> str:  # fmt: skip
    """``CREATE TEMPORARY TABLE`` reading ``topic`` as JSON from the given position, named
    ``name`` when it is read directly (default: ``topic.table``).

    Every declared field must be in each event (an explicit JSON null is a value): an event
    without one is malformed, like one that is not JSON or has a wrong type. With the
    "fail" policy (and on compacted topics) a malformed event fails the run; with "dlq" it
    goes to the dead-letter topic and the table is ``malformed.log_table``.
    """
    routed = malformed.routes(topic)
    # kappa-json for every topic: its lenient timestamps (T or space, 0-9 fractional digits,
    # an optional offset) hold alike; without the error metadata it fails like Flink's json.
    fmt = "kappa-json"
    json_options = {
        f"{fmt}.fail-on-missing-field": "true",
        f"{fmt}.ignore-parse-errors": "false",
    }
    # Flink's Kafka source takes start offsets for one topic only: such a run has no clock.
    with_clock = clocked(topic) and not rng.uses_offsets()
    read = f"{topic.name};{clock_topic(topic.name)}" if with_clock else topic.name
    common = {"topic": read, **connection.flink_options()}
    if topic.compact and topic.key:
        # A compacted topic is a table: the latest value per key (an upsert changelog).
        options = {
            "connector": "upsert-kafka",
            **common,
            "key.format": "raw",
            "value.format": fmt,
            "value.fields-include": "ALL",
            **{f"value.{k}": v for k, v in json_options.items()},
        }
        key = f",\n  PRIMARY KEY ({quote(topic.key)}) NOT ENFORCED"
    else:
        options = {
            "connector": "kafka",
            **common,
            "properties.group.id": group_id,
            **rng.source_options(),
            "format": fmt,
            **json_options,
            **(malformed.not_null_option(topic.columns) if routed else {}),
        }
        key = ""
    columns = malformed.log_columns(topic.columns) if routed else format_columns(topic.columns)
    if clocked(topic):
        columns += f",\n  {malformed.TOPIC_COLUMN}"
    table = malformed.log_table(topic) if routed or clocked(topic) else name or topic.table
    return (
        f"CREATE TEMPORARY TABLE {quote(table)} (\n  {columns}{_watermark(topic)}{key}\n)"
        f" {with_clause(options)}"
    )


def output_columns(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    """Output column types as Iceberg can store them (no time-attribute markers)."""
    return tuple(
        Column(c.name, c.type.replace("*ROWTIME*", "").replace("*PROCTIME*", "").strip())
        for c in columns
    )


def qualified_table(catalog: str, table: str) -> str:
    return f"{quote(catalog)}.{quote(DEFAULT_NAMESPACE)}.{quote(table)}"


def sink_ddl(
    catalog: str, table: str, job_version: JobVersion, properties: Mapping[str, str] | None = None
) -> str:
    """``CREATE TABLE`` for a run's Iceberg output: upsert on the key when the query updates;
    ``properties`` go to the table too (`kappanb.tables.maintenance`)."""
    columns = format_columns(job_version.output)
    options = {"format-version": "2", **(properties or {})}
    if job_version.updating:
        keys = ", ".join(quote(k) for k in job_version.key)
        columns += f",\n  PRIMARY KEY ({keys}) NOT ENFORCED"
        options["write.upsert.enabled"] = "true"
    table_name = qualified_table(catalog, table)
    return f"CREATE TABLE {table_name} (\n  {columns}\n) {with_clause(options)}"


ONE_WRITER = "/*+ OPTIONS('write-parallelism'='1') */"
"""Iceberg's committer (1.11) files each writer's end-of-input files under one key: when a
checkpoint is taken after one writer ended and before another, the later end replaces the
earlier writer's files and its rows are lost. A bounded run therefore writes through one
writer, chained to the committer, whatever its parallelism; its queries still run wide."""


def insert_sql(catalog: str, table: str, query: str, bounded: bool = False) -> str:
    """The run's INSERT; ``bounded`` (a replay with an end) writes through one writer."""
    hint = f" {ONE_WRITER}" if bounded else ""
    return f"INSERT INTO {qualified_table(catalog, table)}{hint}\n{query}"
