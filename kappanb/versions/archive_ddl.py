"""The Flink SQL of a topic's archive: every Kafka record, as it was, into an Iceberg table.

One row per record: its partition, offset and Kafka timestamp (the Kafka connector's
metadata), its key (the ``raw`` key format: the bytes, NULL for none), its value as it was
(``kappa-json``'s ``bytes`` metadata, NULL for a record without a value), why the value
does not decode (``parse_error``, NULL for a valid event) and the topic's declared columns
decoded by ``kappa-json`` exactly as a run decodes them: all NULL when the value does not
decode. Nothing is filtered, so malformed records are history too.

Identifiers pass `kappanb.core.names` checks and are back-quoted, options are literals
(`kappanb.versions.ddl`); the Kafka options hold the connection's secrets and go to Flink
only.
"""

from __future__ import annotations

import re

from kappanb.core.names import quote
from kappanb.core.schema import Column, format_columns
from kappanb.exceptions import ArchiveColumnError
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import TopicSpec
from kappanb.versions.ddl import output_columns, qualified_table, with_clause
from kappanb.versions.malformed import RESERVED_PREFIX, not_null_option

ARCHIVE_PREFIX = "archive__"
"""An archive table is ``archive__<topic's SQL table>``: job names have no ``__``, so no
job's output (``JOB__vN``) starts so unless a job is named ``archive`` and a topic's table
``vN``, which `check_archivable` refuses."""

PARTITION, OFFSET, TIMESTAMP = "kafka_partition", "kafka_offset", "kafka_timestamp"
KEY, VALUE, PARSE_ERROR = "kafka_key", "kafka_value", "parse_error"
RECORD_COLUMNS = (
    Column(PARTITION, "INT"),
    Column(OFFSET, "BIGINT"),
    Column(TIMESTAMP, "TIMESTAMP_LTZ(3)"),
    Column(KEY, "BYTES"),
    Column(VALUE, "BYTES"),
    Column(PARSE_ERROR, "STRING"),
)
"""The archive's first columns: where the record was, and what it was."""
_SOURCE_COLUMNS = {
    PARTITION: "METADATA FROM 'partition' VIRTUAL",
    OFFSET: "METADATA FROM 'offset' VIRTUAL",
    TIMESTAMP: "METADATA FROM 'timestamp' VIRTUAL",
    KEY: "",  # physical: the record's key, through the raw key format
    VALUE: "METADATA FROM 'value.bytes' VIRTUAL",
    PARSE_ERROR: "METADATA FROM 'value.error' VIRTUAL",
}
_NOT_NULL = re.compile(r"\s+NOT\s+NULL\b", re.I)
_VERSION_LIKE = re.compile(r"v[0-9]+(_[0-9]+)?")


def archive_job(topic: str) -> str:
    """The archive's name in the registry's runs (``archive.<topic>``): job names have no
    dot, so no job's runs are ever mistaken for it."""
    return f"archive.{topic}"


def archive_lock(topic: str) -> str:
    """The lock its commands hold (`kappanb.registry.locks`), shaped like a job name (a
    lock file's name) and with ``__``, which no job's name has. Two topics that differ only
    in case or punctuation share it: one of their commands waits, nothing else."""
    return f"archive__{re.sub(r'[^a-z0-9_]', '_', topic.lower())}"[:48]


def archive_table(topic: TopicSpec) -> str:
    return f"{ARCHIVE_PREFIX}{topic.table}"


def archive_group(topic: TopicSpec) -> str:
    """The archive's consumer group: Flink commits its positions there on checkpoints."""
    return f"kappanb.archive.{topic.name}"


def source_table(topic: TopicSpec) -> str:
    return f"{RESERVED_PREFIX}archive_{topic.table}"


def archive_columns(topic: TopicSpec) -> tuple[Column, ...]:
    """The archive table's columns: the record's, then the declared ones, all nullable."""
    declared = tuple(
        Column(c.name, _NOT_NULL.sub("", c.type)) for c in output_columns(topic.columns)
    )
    return RECORD_COLUMNS + declared


def check_archivable(topic: TopicSpec) -> None:
    """Refuse a topic whose declared columns clash with the record's columns, or whose
    archive table would be named like a job's output."""
    taken = {c.name.lower() for c in RECORD_COLUMNS}
    clash = [c.name for c in topic.columns if c.name.lower() in taken]
    if clash:
        raise ArchiveColumnError(
            f"topic {topic.name} declares {', '.join(clash)}, a name the archive keeps each "
            f"record's Kafka fields in ({', '.join(c.name for c in RECORD_COLUMNS)}); "
            "declare the topic's column under another name to archive it"
        )
    if _VERSION_LIKE.fullmatch(topic.table):
        raise ArchiveColumnError(
            f"topic {topic.name}'s SQL table {topic.table} would make the archive table "
            f"{archive_table(topic)}, the name of job archive's output; declare the topic "
            "with another --table to archive it"
        )


def source_ddl(topic: TopicSpec, connection: KafkaConnection, group_id: str) -> str:
    """The topic's Kafka table for the archive: from the earliest offset, every record."""
    fmt = "kappa-json"
    options = {
        "connector": "kafka",
        "topic": topic.name,
        **connection.flink_options(),
        "properties.group.id": group_id,
        "scan.startup.mode": "earliest-offset",
        "key.format": "raw",
        "key.fields": KEY,
        "value.format": fmt,
        "value.fields-include": "EXCEPT_KEY",
        f"value.{fmt}.fail-on-missing-field": "true",
        f"value.{fmt}.ignore-parse-errors": "false",
        **{f"value.{k}": v for k, v in not_null_option(topic.columns).items()},
    }
    columns = archive_columns(topic)
    lines = [f"{quote(c.name)} {c.type} {_SOURCE_COLUMNS.get(c.name, '')}".rstrip()
             for c in columns]  # fmt: skip
    body = ",\n  ".join(lines)
    name = quote(source_table(topic))
    return f"CREATE TEMPORARY TABLE {name} (\n  {body}\n) {with_clause(options)}"


def sink_ddl(catalog: str, topic: TopicSpec) -> str:
    """The archive's Iceberg table: append-only (one row per record, never updated)."""
    columns = format_columns(archive_columns(topic))
    table = qualified_table(catalog, archive_table(topic))
    return f"CREATE TABLE {table} (\n  {columns}\n) {with_clause({'format-version': '2'})}"


def insert_sql(catalog: str, topic: TopicSpec) -> str:
    names = ", ".join(quote(c.name) for c in archive_columns(topic))
    return (
        f"INSERT INTO {qualified_table(catalog, archive_table(topic))}\n"
        f"SELECT {names} FROM {quote(source_table(topic))}"
    )


def archive_statements(
    topic: TopicSpec, connection: KafkaConnection, catalog: str, create_table: bool
) -> list[str]:
    """The archive job's SQL: the source, the table (unless restoring), the INSERT."""
    sink = [sink_ddl(catalog, topic)] if create_table else []
    return [source_ddl(topic, connection, archive_group(topic)), *sink, insert_sql(catalog, topic)]
