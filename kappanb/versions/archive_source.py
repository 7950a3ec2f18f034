"""The Flink SQL of a topic read from its archive, then from the log (``--from archive``).

The table the job's SQL reads (``<table>``) becomes a view: the archive's valid events, at
the archive's snapshot pinned when the run started, ``UNION ALL`` the topic's Kafka table
read from the handoff offsets (per partition, one past the last offset that snapshot
holds). Every offset is read once: below the handoff from the archive, from it on from the
log, so no gap and no overlap; both sides are exactly once as any run's sources are (the
Iceberg source's splits and the Kafka offsets live in Flink's checkpoints).

Event time: the archive side is an Iceberg ``connector`` table whose watermark is
``SOURCE_WATERMARK()``, from the ``watermark-column`` read option (Iceberg 1.11's FLIP-27
source: each data file is read in order of its lowest event time, and the watermark is
that lowest time, so no archived event is ever late). Its event-time column is a rowtime
attribute like the Kafka side's, and the union of the two keeps it: windows work. The
watermark of the union is the lower of the two sides' until the archive side ends.

Records without a value (tombstones), which the archive keeps as rows of NULLs, are left
out as runs skip them. Malformed archived records (``parse_error`` set) are left out: a
topic that fails fast refuses such a replay before it starts
(`kappanb.history.archive_replay`), a topic with a dead-letter topic routed them there when
its runs met them. The Kafka side routes or fails as any run's does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kappanb.core.names import quote
from kappanb.core.positions import ReadRange
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import TopicSpec
from kappanb.tables.catalog import DEFAULT_NAMESPACE
from kappanb.versions import malformed
from kappanb.versions.archive_ddl import PARSE_ERROR, VALUE, archive_columns, archive_table
from kappanb.versions.ddl import clocked, source_ddl, with_clause

FLIP27_SOURCE = {
    "table.exec.iceberg.use-flip27-source": "true",
    "table.exec.iceberg.infer-source-parallelism": "false",
}
"""The job settings of a replay from the archive: Iceberg's source watermark needs the
FLIP-27 source (the older one has none); and a bounded Iceberg source would otherwise
ask for one task per file (up to 100), more than the run's slots, where an archive has a
file per checkpoint: it runs at the run's ``--parallelism`` like every operator."""
_CATALOG_ONLY = ("type", "default-database")
"""`Catalog.flink_properties` that are ``CREATE CATALOG``'s, not the connector table's."""


@dataclass(frozen=True)
class Handoff:
    """Where a run reads one topic's history: the archive's snapshot, then the log from
    ``offsets`` (per partition, the first offset the snapshot does not hold)."""

    topic: str
    snapshot_id: int
    offsets: Mapping[int, int]

    def tail_start(self) -> str:
        """The log's side as ``--from`` spells partition offsets (``0:120,1:98``)."""
        return ",".join(f"{p}:{o}" for p, o in sorted(self.offsets.items()))


def history_table(topic: TopicSpec) -> str:
    return f"{malformed.RESERVED_PREFIX}history_{topic.table}"


def tail_table(topic: TopicSpec) -> str:
    return f"{malformed.RESERVED_PREFIX}tail_{topic.table}"


def tail_range(handoff: Handoff, until: str | None) -> ReadRange:
    """The Kafka side's range: from the handoff, to the run's ``--until``."""
    return ReadRange(handoff.tail_start(), until)


def history_ddl(
    topic: TopicSpec, handoff: Handoff, catalog: str, catalog_properties: Mapping[str, str]
) -> str:
    """The archive at the pinned snapshot as a bounded Iceberg table with the topic's
    declared columns (all nullable, as the archive keeps them) and ``parse_error``."""
    declared = archive_columns(topic)[-len(topic.columns) :]
    lines = [f"{quote(c.name)} {c.type}" for c in declared]
    lines += [f"{quote(VALUE)} BYTES", f"{quote(PARSE_ERROR)} STRING"]
    options = {
        "connector": "iceberg",
        **{k: v for k, v in catalog_properties.items() if k not in _CATALOG_ONLY},
        "catalog-name": catalog,
        "catalog-database": DEFAULT_NAMESPACE,
        "catalog-table": archive_table(topic),
        "snapshot-id": str(handoff.snapshot_id),
    }
    if topic.event_time:
        options["watermark-column"] = topic.event_time
        lines.append(f"WATERMARK FOR {quote(topic.event_time)} AS SOURCE_WATERMARK()")
    body = ",\n  ".join(lines)
    name = quote(history_table(topic))
    return f"CREATE TEMPORARY TABLE {name} (\n  {body}\n) {with_clause(options)}"


def tail_statements(
    topic: TopicSpec, connection: KafkaConnection, group_id: str, tail: ReadRange
) -> list[str]:
    """The topic's Kafka table from the handoff, and the view of its valid events named
    `tail_table` (its dead-letter INSERT reads the Kafka table as any run's does)."""
    if malformed.routes(topic) or clocked(topic):
        return [
            source_ddl(topic, connection, group_id, tail),
            malformed.view_ddl(topic, clocked(topic), name=tail_table(topic)),
        ]
    return [source_ddl(topic, connection, group_id, tail, name=tail_table(topic))]


def union_view_ddl(topic: TopicSpec) -> str:
    """``<table>``: the archive's valid events, then the log's from the handoff."""
    names = ", ".join(quote(c.name) for c in topic.columns)
    return (
        f"CREATE TEMPORARY VIEW {quote(topic.table)} AS\n"
        f"SELECT {names} FROM {quote(history_table(topic))}\n"
        f"WHERE {quote(PARSE_ERROR)} IS NULL AND {quote(VALUE)} IS NOT NULL\n"
        f"UNION ALL\nSELECT {names} FROM {quote(tail_table(topic))}"
    )


def source_statements(
    topic: TopicSpec, connection: KafkaConnection, group_id: str, handoff: Handoff,
    until: str | None, catalog: str, catalog_properties: Mapping[str, str],
) -> list[str]:  # fmt: skip
    """What makes ``topic.table`` readable for a replay from the archive."""
    return [
        history_ddl(topic, handoff, catalog, catalog_properties),
        *tail_statements(topic, connection, group_id, tail_range(handoff, until)),
        union_view_ddl(topic),
    ]
