"""The Flink SQL around a topic whose malformed events go to a dead-letter topic (DLQ).

The topic's Kafka table (``_kappanb_log_<table>``) decodes with kappanb's ``kappa-json``
format: Flink's JSON format, one parse per event, but an event it cannot decode (not
JSON, a declared field missing, a wrong type, a NOT NULL field null) becomes a row with
NULL fields and its reason. The view ``<table>`` the job's SQL reads keeps the valid rows
only; one more INSERT of the same statement set (Flink reuses the one source scan) writes
the others to the DLQ with where they came from and which run saw them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kappanb.core.names import literal, quote
from kappanb.core.schema import Column
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.kinds import RunMode
from kappanb.registry.records import TopicSpec

RESERVED_PREFIX = "_kappanb_"
ERROR, RAW, ENCODING = "_kappanb_error", "_kappanb_raw", "_kappanb_raw_encoding"
PARTITION, OFFSET = "_kappanb_partition", "_kappanb_offset"
TOPIC = "_kappanb_topic"
TOPIC_COLUMN = f"{quote(TOPIC)} STRING METADATA FROM 'topic' VIRTUAL"
"""Which topic a row came from: the topic's own, or its clock (`kappanb.kafka.clock`)."""
METADATA_COLUMNS = (
    f"{quote(ERROR)} STRING METADATA FROM 'value.error' VIRTUAL",
    f"{quote(RAW)} STRING METADATA FROM 'value.raw' VIRTUAL",
    f"{quote(ENCODING)} STRING METADATA FROM 'value.raw-encoding' VIRTUAL",
    f"{quote(PARTITION)} INT METADATA FROM 'partition' VIRTUAL",
    f"{quote(OFFSET)} BIGINT METADATA FROM 'offset' VIRTUAL",
)
DLQ_FIELDS = (
    "reason STRING, payload STRING, payload_encoding STRING, topic STRING, "
    "`partition` INT, `offset` BIGINT, job STRING, version INT, run_id BIGINT, mode STRING"
)
_NOT_NULL = re.compile(r"\s+NOT\s+NULL\b", re.I)
_DECODE_ERROR = re.compile(
    r"JSON|Unrecognized token|Unexpected character|Unexpected end-of-input|Invalid UTF-8|"
    r"field is missing|Could not find field|Fail to deserialize|bad timestamp: field|"
    r"is missing or null, and the schema declares"
)


@dataclass(frozen=True)
class RunIdentity:
    """What a DLQ record says about the run that found the event."""

    job: str
    version: int
    run_id: int
    mode: RunMode


def routes(topic: TopicSpec) -> bool:
    """Does a run route this topic's malformed events to a DLQ (instead of failing)?"""
    return topic.dlq_topic is not None and not topic.compact


def log_table(topic: TopicSpec) -> str:
    return f"{RESERVED_PREFIX}log_{topic.table}"


def dlq_table(topic: TopicSpec) -> str:
    return f"{RESERVED_PREFIX}dlq_{topic.table}"


def log_columns(columns: tuple[Column, ...]) -> str:
    """The declared columns, all nullable (an error row has NULL fields; the format checks
    NOT NULL itself and routes a violation), then the metadata of a malformed event."""
    plain = [f"{quote(c.name)} {_NOT_NULL.sub('', c.type)}" for c in columns]
    return ",\n  ".join([*plain, *METADATA_COLUMNS])


def not_null_option(columns: tuple[Column, ...]) -> dict[str, str]:
    """The format's list of NOT NULL columns (the log table declares every column nullable)."""
    names = [c.name for c in columns if _NOT_NULL.search(c.type)]
    return {"kappa-json.not-null": ",".join(names)} if names else {}


def view_ddl(topic: TopicSpec, clocked: bool = False, name: str | None = None) -> str:
    """The table the job's SQL reads (``name``, default ``topic.table``): the declared
    columns of the valid events (a routed topic) of the topic itself (``clocked``: not its
    clock's heartbeats)."""
    names = ", ".join(quote(c.name) for c in topic.columns)
    keep = [f"{quote(ERROR)} IS NULL"] if routes(topic) else []
    keep += [f"{quote(TOPIC)} = {literal(topic.name)}"] if clocked else []
    return (
        f"CREATE TEMPORARY VIEW {quote(name or topic.table)} AS\nSELECT {names} "
        f"FROM {quote(log_table(topic))} WHERE {' AND '.join(keep)}"
    )


def dlq_sink_ddl(topic: TopicSpec, connection: KafkaConnection, name: str | None = None) -> str:
    """The table of ``topic``'s dead-letter topic, named ``name`` (default `dlq_table`)."""
    dlq = topic.dlq_topic
    assert dlq is not None, f"{topic.name} fails fast: it has no dead-letter topic"
    options = {
        "connector": "kafka",
        "topic": dlq,
        **connection.flink_options(),
        "format": "json",
        # Duplicates after a restart are possible; counts are of distinct (partition, offset).
        "sink.delivery-guarantee": "at-least-once",
    }
    body = ",\n  ".join(f"{literal(k)} = {literal(v)}" for k, v in options.items())
    table = quote(name or dlq_table(topic))
    return f"CREATE TEMPORARY TABLE {table} ({DLQ_FIELDS}) WITH (\n  {body}\n)"


def dlq_insert(
    topic: TopicSpec, run: RunIdentity, source: str | None = None, sink: str | None = None,
    condition: str = "",
) -> str:  # fmt: skip
    """The INSERT of ``topic``'s malformed events read from ``source`` (default its
    `log_table`) into ``sink`` (default its `dlq_table`); ``condition``: of those, only
    the ones it holds for (SQL kappanb generated)."""
    text = literal
    return (
        f"INSERT INTO {quote(sink or dlq_table(topic))}\n"
        f"SELECT {quote(ERROR)}, {quote(RAW)}, {quote(ENCODING)}, {text(topic.name)}, "
        f"{quote(PARTITION)}, {quote(OFFSET)}, {text(run.job)}, {run.version}, "
        f"CAST({run.run_id} AS BIGINT), {text(run.mode)}\n"
        f"FROM {quote(source or log_table(topic))} WHERE {quote(ERROR)} IS NOT NULL"
        + (f" AND {condition}" if condition else "")
    )  # a heartbeat of the topic's clock is a valid row: never one of these


def fail_fast_hint(error: str, topics: list[TopicSpec]) -> str:
    """``error`` plus what to do, when a malformed event failed a run of fail-fast topics."""
    strict = [t.name for t in topics if not routes(t)]
    if not strict or not _DECODE_ERROR.search(error):
        return error
    return (
        f"{error} — a malformed event in {', '.join(strict)}, which fails fast "
        "(--on-malformed fail). Fix the producer and replay from after the event "
        "(`replay --from PARTITION:OFFSET`), or declare the topic with --on-malformed dlq "
        "to route such events to a dead-letter topic (not possible for --compact topics)"
    )
