"""Read Iceberg tables of the kappanb catalog into polars."""

from __future__ import annotations

import polars as pl

from kappanb.exceptions import TableNotFoundError
from kappanb.tables.catalog import DEFAULT_NAMESPACE, Catalog, open_catalog


def scan_table(location: Catalog, name: str, namespace: str = DEFAULT_NAMESPACE) -> pl.LazyFrame:
    """The table's current snapshot (upserts and deletes applied) as a polars LazyFrame."""
    from pyiceberg.exceptions import NoSuchTableError

    from kappanb.tables.merge_read import read_snapshot

    catalog = open_catalog(location)
    try:
        table = catalog.load_table((namespace, name))
    except NoSuchTableError:
        known = sorted(t[-1] for t in catalog.list_tables(namespace))
        raise TableNotFoundError(
            f"no table {namespace}.{name} in catalog {location.name!r}; "
            f"it has: {', '.join(known) or 'no tables yet'}"
        ) from None
    # Merge-on-read in kappanb: pyiceberg (so polars.scan_iceberg) cannot apply the equality
    # deletes that Flink's upsert sink writes; see merge_read. The snapshot is read eagerly.
    # from_arrow keeps Iceberg's types: timestamp -> Datetime("us"), timestamptz ->
    # Datetime("us", "UTC"), date -> Date, decimal -> Decimal, string -> String.
    frame = pl.from_arrow(read_snapshot(table))
    assert isinstance(frame, pl.DataFrame)
    return frame.lazy()


def read_table(location: Catalog, name: str, namespace: str = DEFAULT_NAMESPACE) -> pl.DataFrame:
    """The whole table as a polars DataFrame."""
    return scan_table(location, name, namespace).collect()
