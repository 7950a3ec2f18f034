"""What an archive table covers: per Kafka partition, the lowest and highest offset it holds.

Read from the table's current snapshot (what the archive's checkpoints committed), so it
trails the archive's job by up to one checkpoint interval. A retention report compares it
with the earliest offsets still in the log: a replay from the archive needs no gap between.
`pin_archive` fixes the snapshot such a replay reads, and what it holds.

A deletion request (`forget`) takes rows out of the archive, but not out of what it has
read: the offsets it deleted stay covered, or a handoff computed from the rows left would
move back and Kafka would deliver the forgotten events again (or an archive whose first
rows were forgotten would seem to start late). So the delete's commit records, in the
table property `DELETED_OFFSETS`, per partition the lowest and highest offset any delete
took out (`record_deleted`), and the coverage is the rows' ranges widened by those. A table
property outlives the snapshots that expire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from kappanb.tables.catalog import DEFAULT_NAMESPACE, Catalog, open_catalog, table_has_data
from kappanb.tables.read import scan_table

PARTITION, OFFSET = "kafka_partition", "kafka_offset"
DELETED_OFFSETS = "kappanb.archive.deleted-offsets"
"""Table property: ``partition:lowest-highest`` of the offsets deletes took out, by commas."""
Ranges = dict[int, tuple[int, int]]


def archive_coverage(location: Catalog, table: str) -> Ranges:
    """Per partition, (lowest, highest) offset archived, deleted rows included; empty when
    nothing is yet."""
    return archive_holding(location, table)[0]


def archive_holding(location: Catalog, table: str) -> tuple[Ranges, int]:
    """`archive_coverage` and the rows the same snapshot holds (deleted rows not counted:
    what a replay from the archive reads of it)."""
    if not table_has_data(location, table):
        return {}, 0
    frame = (
        scan_table(location, table)
        .group_by(PARTITION)
        .agg(
            pl.col(OFFSET).min().alias("low"),
            pl.col(OFFSET).max().alias("high"),
            pl.len().alias("rows"),
        )
        .collect()
    )
    rows = {int(p): (int(lo), int(hi)) for p, lo, hi, _n in frame.iter_rows()}
    properties = open_catalog(location).load_table((DEFAULT_NAMESPACE, table)).properties
    return widened(rows, deleted_offsets(properties)), int(frame["rows"].sum())


def snapshot_rows(location: Catalog, table: str, snapshot_id: int) -> int | None:
    """The rows an archive's snapshot holds, as its summary counts them (``total-records``:
    exact, as a deletion request rewrites the files it deletes from); None when the table
    or the snapshot is gone (expired) or the summary does not say."""
    from pyiceberg.exceptions import NoSuchTableError

    try:
        iceberg = open_catalog(location).load_table((DEFAULT_NAMESPACE, table))
    except NoSuchTableError:
        return None
    snapshot = iceberg.snapshot_by_id(snapshot_id)
    if snapshot is None or snapshot.summary is None:
        return None
    total = snapshot.summary.get("total-records")
    return int(total) if total is not None else None


def deleted_offsets(properties: Mapping[str, str]) -> Ranges:
    """The ranges `DELETED_OFFSETS` records (empty when no delete took rows out)."""
    found: Ranges = {}
    for entry in filter(None, properties.get(DELETED_OFFSETS, "").split(",")):
        partition, _, span = entry.partition(":")
        low, _, high = span.partition("-")
        found[int(partition)] = (int(low), int(high))
    return found


def widened(rows: Ranges, deleted: Ranges) -> Ranges:
    """Per partition, the range that holds both the rows' and the deleted offsets."""
    out = dict(rows)
    for partition, (low, high) in deleted.items():
        held = out.get(partition)
        out[partition] = (low, high) if held is None else (min(low, held[0]), max(high, held[1]))
    return out


def record_deleted(properties: Mapping[str, str], deleted: pl.DataFrame) -> dict[str, str]:
    """The property update a delete of ``deleted`` (an archive's rows) commits with."""
    if not deleted.height:
        return {}
    ranges = deleted.group_by(PARTITION).agg(
        pl.col(OFFSET).min().alias("low"), pl.col(OFFSET).max().alias("high")
    )
    now = {int(p): (int(lo), int(hi)) for p, lo, hi in ranges.iter_rows()}
    merged = widened(deleted_offsets(properties), now)
    text = ",".join(f"{p}:{lo}-{hi}" for p, (lo, hi) in sorted(merged.items()))
    return {DELETED_OFFSETS: text}


PARSE_ERROR = "parse_error"


@dataclass(frozen=True)
class PinnedArchive:
    """An archive table's current snapshot, pinned for a replay: what it holds of each
    Kafka partition and how many of its records did not decode."""

    snapshot_id: int
    coverage: dict[int, tuple[int, int]]
    """Per partition, (lowest, highest) offset the snapshot holds or a delete took out."""
    malformed: int
    first_malformed: tuple[int, int] | None = None
    """The (partition, offset) of the first record that did not decode, if any."""


def pin_archive(location: Catalog, table: str) -> PinnedArchive | None:
    """The table's current snapshot and what it covers; None when it has no table or no
    snapshot yet. Deletes are applied (a deletion request's rows are not history), but the
    offsets they took out stay covered (see the module's docstring)."""
    from pyiceberg.exceptions import NoSuchTableError

    from kappanb.tables.merge_read import read_snapshot

    try:
        iceberg = open_catalog(location).load_table((DEFAULT_NAMESPACE, table))
    except NoSuchTableError:
        return None
    snapshot = iceberg.current_snapshot()
    if snapshot is None:
        return None
    rows = pl.from_arrow(read_snapshot(iceberg, snapshot.snapshot_id))
    assert isinstance(rows, pl.DataFrame)
    rows = rows.select(PARTITION, OFFSET, PARSE_ERROR)
    ranges = rows.group_by(PARTITION).agg(
        pl.col(OFFSET).min().alias("low"), pl.col(OFFSET).max().alias("high")
    )
    bad = rows.filter(pl.col(PARSE_ERROR).is_not_null()).sort(PARTITION, OFFSET)
    first = (int(bad[PARTITION][0]), int(bad[OFFSET][0])) if bad.height else None
    held = {int(p): (int(lo), int(hi)) for p, lo, hi in ranges.iter_rows()}
    return PinnedArchive(
        snapshot.snapshot_id,
        widened(held, deleted_offsets(iceberg.properties)),
        bad.height,
        first,
    )
