"""What an archive table covers: per Kafka partition, the lowest and highest offset it holds.

Read from the table's current snapshot (what the archive's checkpoints committed), so it
trails the archive's job by up to one checkpoint interval. A retention report compares it
with the earliest offsets still in the log: a replay from the archive needs no gap between.
"""

from __future__ import annotations

import polars as pl

from kappanb.tables.catalog import Catalog, table_has_data
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
