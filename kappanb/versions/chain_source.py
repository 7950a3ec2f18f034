"""The Flink SQL of a topic that follows an older version (`kappanb.versions.chain`).

The table the job's SQL reads (``<table>`` of the newer topic) becomes a view, as for a
replay from the archive (`kappanb.versions.archive_source`): the older topic's records
before the cut (per partition, the end offset it had when the newer version was
declared), through the mapping, ``UNION ALL`` the newer topic's Kafka table read as any
run reads it. A run that starts at ``latest`` reads the newer topic alone (the older one
is sealed: nothing is added to what runs read of it).

The older side keeps its records before the cut by their partition and offset. Its
source ends at the cut (``scan.bounded.mode`` ``specific-offsets``) only in a bounded
run, which ends when every source has: a source that finishes sends the end-of-time
watermark, and once the newer side's partitions fall idle (no record for the idle
timeout) that would be the union's watermark, firing every window the newer records
have not closed yet, before their late records. Unbounded, the older side reads on (an
outside producer's records past the cut are left out) and falls idle itself.

Event time: the older table has a computed column ``_kappanb_next_<event time>``, the
newer event time as the mapping gives it, and its watermark is on that column (with the
newer topic's delay), so both sides of the union carry a rowtime attribute and windows
work. The union's watermark is the lower of the two until the older side has read to
the cut and fallen idle (or finished); then the newer side alone moves it. The older side
has no clock (`kappanb.kafka.clock`): its records all precede the newer ones, and it
falls idle once read.

Malformed events of each side go where its own topic declares: the older topic's to its
dead-letter topic (an INSERT of the run reading the older table), or they fail the run.
"""

from __future__ import annotations

from kappanb.core.names import quote
from kappanb.core.positions import ReadRange
from kappanb.core.schema import format_columns
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import TopicSpec
from kappanb.versions import malformed
from kappanb.versions.chain import NEXT_PREFIX, column_sources
from kappanb.versions.ddl import clocked, source_ddl, with_clause


def older_table(newer: TopicSpec) -> str:
    """The older topic's Kafka table, as read for ``newer`` (a Flink source vertex is
    named after it: ``Source: <name>[n]``)."""
    return f"{malformed.RESERVED_PREFIX}older_{newer.table}"


def older_view(newer: TopicSpec) -> str:
    return f"{malformed.RESERVED_PREFIX}mapped_{newer.table}"


def newer_view(newer: TopicSpec) -> str:
    return f"{malformed.RESERVED_PREFIX}newer_{newer.table}"


def older_dlq_table(newer: TopicSpec) -> str:
    return f"{malformed.RESERVED_PREFIX}older_dlq_{newer.table}"


def reads_older(newer: TopicSpec, rng: ReadRange) -> bool:
    """Does a run of ``rng`` read the older version before ``newer``? Not from latest,
    and not when the older version had no record when it was sealed."""
    return newer.follows is not None and rng.start != "latest" and any(newer.cut_offsets.values())


def bounded_at(cut: dict[int, int]) -> dict[str, str]:
    """The Kafka source options that end each partition at its offset in ``cut``."""
    spec = ";".join(f"partition:{p},offset:{o}" for p, o in sorted(cut.items()))
    return {"scan.bounded.mode": "specific-offsets", "scan.bounded.specific-offsets": spec}


def within_cut(newer: TopicSpec) -> str:
    """The SQL condition that keeps the older topic's records before the cut."""
    kept = [
        f"({quote(malformed.PARTITION)} = {p} AND {quote(malformed.OFFSET)} < {o})"
        for p, o in sorted(newer.cut_offsets.items())
        if o > 0
    ]
    return "(" + " OR ".join(kept or ["FALSE"]) + ")"


def _watermark(newer: TopicSpec) -> str:
    if not newer.event_time:
        return ""
    column = quote(NEXT_PREFIX + newer.event_time)
    seconds = f"{newer.watermark_ms / 1000:.3f}".rstrip("0").rstrip(".")
    return f",\n  WATERMARK FOR {column} AS {column} - INTERVAL '{seconds}' SECOND"


def older_ddl(
    older: TopicSpec, newer: TopicSpec, connection: KafkaConnection, group_id: str,
    rng: ReadRange,
) -> str:  # fmt: skip
    """The older topic's Kafka table: from the run's start to the cut, with the newer
    event time as a computed column carrying the watermark."""
    routed = malformed.routes(older)
    columns = malformed.log_columns(older.columns) if routed else format_columns(older.columns)
    if not routed:  # where each record is, for `within_cut` (a routed table has them)
        columns += ",\n  " + ",\n  ".join(malformed.METADATA_COLUMNS[-2:])
    if newer.event_time:
        given = dict((c.name, e) for c, e in column_sources(newer, older))[newer.event_time]
        columns += f",\n  {quote(NEXT_PREFIX + newer.event_time)} AS {given}"
    fmt = "kappa-json"
    options = {
        "connector": "kafka",
        "topic": older.name,
        **connection.flink_options(),
        "properties.group.id": group_id,
        **ReadRange(rng.start).source_options(),  # where the run starts
        **(bounded_at(newer.cut_offsets) if rng.bounded else {}),
        "format": fmt,
        f"{fmt}.fail-on-missing-field": "true",
        f"{fmt}.ignore-parse-errors": "false",
        **(malformed.not_null_option(older.columns) if routed else {}),
    }
    name = quote(older_table(newer))
    return (
        f"CREATE TEMPORARY TABLE {name} (\n  {columns}{_watermark(newer)}\n) {with_clause(options)}"
    )


def older_view_ddl(older: TopicSpec, newer: TopicSpec) -> str:
    """The older topic's valid records as rows of the newer version."""
    selected = []
    for column, expression in column_sources(newer, older):
        if column.name == newer.event_time:  # the rowtime attribute itself, not a copy
            selected.append(f"{quote(NEXT_PREFIX + column.name)} AS {quote(column.name)}")
        else:
            selected.append(f"{expression} AS {quote(column.name)}")
    valid = f" AND {quote(malformed.ERROR)} IS NULL" if malformed.routes(older) else ""
    return (
        f"CREATE TEMPORARY VIEW {quote(older_view(newer))} AS\n"
        f"SELECT {', '.join(selected)}\nFROM {quote(older_table(newer))}\n"
        f"WHERE {within_cut(newer)}{valid}"
    )


def newer_statements(
    newer: TopicSpec, connection: KafkaConnection, group_id: str, rng: ReadRange
) -> list[str]:
    """The newer topic read as any run reads it, under `newer_view`'s name."""
    name = newer_view(newer)
    if malformed.routes(newer) or clocked(newer):
        return [
            source_ddl(newer, connection, group_id, rng),
            malformed.view_ddl(newer, clocked(newer), name=name),
        ]
    return [source_ddl(newer, connection, group_id, rng, name=name)]


def union_view_ddl(newer: TopicSpec) -> str:
    names = ", ".join(quote(c.name) for c in newer.columns)
    return (
        f"CREATE TEMPORARY VIEW {quote(newer.table)} AS\n"
        f"SELECT {names} FROM {quote(older_view(newer))}\n"
        f"UNION ALL\nSELECT {names} FROM {quote(newer_view(newer))}"
    )


def source_statements(
    older: TopicSpec, newer: TopicSpec, connection: KafkaConnection, group_id: str,
    rng: ReadRange,
) -> list[str]:  # fmt: skip
    """What makes ``newer.table`` readable as the chain (`reads_older` must hold)."""
    return [
        older_ddl(older, newer, connection, group_id, rng),
        older_view_ddl(older, newer),
        *newer_statements(newer, connection, group_id, rng),
        union_view_ddl(newer),
    ]


def dead_letter_statements(
    older: TopicSpec, newer: TopicSpec, connection: KafkaConnection, run: malformed.RunIdentity
) -> list[str]:
    """The older side's DLQ table and INSERT, when the older topic routes malformed events."""
    if not malformed.routes(older):
        return []
    sink = older_dlq_table(newer)
    return [
        malformed.dlq_sink_ddl(older, connection, name=sink),
        malformed.dlq_insert(
            older, run, source=older_table(newer), sink=sink, condition=within_cut(newer)
        ),
    ]
