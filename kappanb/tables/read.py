"""Read Iceberg tables of the kappanb catalog into polars."""

from __future__ import annotations

import os

import polars as pl

from kappanb.exceptions import TableNotFoundError
from kappanb.tables.catalog import DEFAULT_NAMESPACE, CatalogLocation, open_catalog


def scan_table(
    location: CatalogLocation, name: str, namespace: str = DEFAULT_NAMESPACE
) -> pl.LazyFrame:
    """A lazy polars scan of the table's current snapshot."""
    from pyiceberg.exceptions import NoSuchTableError

    catalog = open_catalog(location)
    try:
        table = catalog.load_table((namespace, name))
    except NoSuchTableError:
        known = sorted(t[-1] for t in catalog.list_tables(namespace))
        raise TableNotFoundError(
            f"no table {namespace}.{name} in catalog {location.name!r}; "
            f"it has: {', '.join(known) or 'no tables yet'}"
        ) from None
    # polars 2 looks for the optional polars_iceberg planner and warns when it is absent;
    # pyiceberg's planner is what kappanb tests against. A user may still set the plugin.
    os.environ.setdefault("POLARS_ICEBERG_PLANNER", "pyiceberg")
    return pl.scan_iceberg(table)


def read_table(
    location: CatalogLocation, name: str, namespace: str = DEFAULT_NAMESPACE
) -> pl.DataFrame:
    """The whole table as a polars DataFrame."""
    return scan_table(location, name, namespace).collect()
