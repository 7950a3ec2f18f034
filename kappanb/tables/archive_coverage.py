"""What an archive table covers: per Kafka partition, the lowest and highest offset it holds.

Read from the table's current snapshot (what the archive's checkpoints committed), so it
trails the archive's job by up to one checkpoint interval. A retention report compares it
with the earliest offsets still in the log: a replay from the archive needs no gap between.
`pin_archive` fixes the snapshot such a replay reads, and what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kappanb.tables.catalog import DEFAULT_NAMESPACE, Catalog, open_catalog, table_has_data
from kappanb.tables.read import scan_table

PARTITION, OFFSET = "kafka_partition", "kafka_offset"


def archive_coverage(location: Catalog, table: str) -> dict[int, tuple[int, int]]:
    """Per partition, (lowest, highest) offset archived; empty when nothing is yet."""
    if not table_has_data(location, table):
        return {}
    frame = (
        scan_table(location, table)
        .group_by(PARTITION)
        .agg(pl.col(OFFSET).min().alias("low"), pl.col(OFFSET).max().alias("high"))
        .collect()
    )
    return {int(p): (int(lo), int(hi)) for p, lo, hi in frame.iter_rows()}


PARSE_ERROR = "parse_error"


@dataclass(frozen=True)
class PinnedArchive:
    """An archive table's current snapshot, pinned for a replay: what it holds of each
    Kafka partition and how many of its records did not decode."""

    snapshot_id: int
    coverage: dict[int, tuple[int, int]]
    """Per partition, (lowest, highest) offset in the snapshot."""
    malformed: int
    first_malformed: tuple[int, int] | None = None
    """The (partition, offset) of the first record that did not decode, if any."""


def pin_archive(location: Catalog, table: str) -> PinnedArchive | None:
    """The table's current snapshot and what it covers; None when it has no table or no
    snapshot yet. Deletes are applied (a deletion request's rows are not history)."""
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
    return PinnedArchive(
        snapshot.snapshot_id,
        {int(p): (int(lo), int(hi)) for p, lo, hi in ranges.iter_rows()},
        bad.height,
        first,
    )
