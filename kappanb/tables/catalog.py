"""The Iceberg catalog shared by Flink and Python: one SQLite JDBC catalog, one warehouse.

Flink reaches it as ``org.apache.iceberg.jdbc.JdbcCatalog`` (``catalog-impl``),
Python as pyiceberg's ``SqlCatalog``; both use the same catalog name, so both
see the same ``iceberg_tables`` rows. Flink is the only writer of table data.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from kappanb.core.names import literal, quote

DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True)
class CatalogLocation:
    """Where the catalog database and the warehouse are."""

    name: str
    database: Path
    warehouse: Path

    @property
    def sqlalchemy_uri(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def jdbc_uri(self) -> str:
        return f"jdbc:sqlite:{self.database}"

    def flink_ddl(self) -> str:
        """``CREATE CATALOG`` for a Flink SQL session."""
        props = {
            "type": "iceberg",
            "catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
            "uri": self.jdbc_uri,
            "warehouse": self.warehouse.as_uri(),
            "default-database": DEFAULT_NAMESPACE,
            "jdbc.schema-version": "V1",
            # Passed to the SQLite driver: wait for a lock rather than fail.
            "jdbc.busy_timeout": "30000",
        }
        # The paths come from KAPPANB_HOME and may hold a quote: literals, quotes doubled.
        body = ",\n  ".join(f"{literal(k)} = {literal(v)}" for k, v in props.items())
        return f"CREATE CATALOG IF NOT EXISTS {quote(self.name)} WITH (\n  {body}\n)"


def open_catalog(location: CatalogLocation) -> Any:
    """pyiceberg's SqlCatalog over the shared database (creates its tables if missing)."""
    from pyiceberg.catalog.sql import SqlCatalog

    location.warehouse.mkdir(parents=True, exist_ok=True)
    return SqlCatalog(
        location.name,
        uri=location.sqlalchemy_uri,
        warehouse=location.warehouse.as_uri(),
    )


def init_catalog(location: CatalogLocation) -> None:
    """Create the catalog tables and the default namespace; idempotent."""
    location.database.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(location.database) as conn:
        # WAL lets pyiceberg read while Flink's committer writes.
        conn.execute("PRAGMA journal_mode=WAL")
    catalog = open_catalog(location)
    catalog.create_namespace_if_not_exists(DEFAULT_NAMESPACE)


def catalog_table_count(location: CatalogLocation) -> int | None:
    """How many tables the catalog lists, or None when the database is missing or broken."""
    if not location.database.is_file():
        return None
    try:
        with sqlite3.connect(f"file:{location.database}?mode=ro", uri=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM iceberg_tables WHERE catalog_name = ?", (location.name,)
            ).fetchone()
    except sqlite3.Error:
        return None
    return int(row[0])


def table_exists(location: CatalogLocation, name: str) -> bool:
    return bool(open_catalog(location).table_exists((DEFAULT_NAMESPACE, name)))


def table_has_data(location: CatalogLocation, name: str) -> bool:
    """True when a run has committed anything to the table (it has a snapshot)."""
    catalog = open_catalog(location)
    if not catalog.table_exists((DEFAULT_NAMESPACE, name)):
        return False
    return catalog.load_table((DEFAULT_NAMESPACE, name)).current_snapshot() is not None


def committed_rows(location: CatalogLocation, name: str) -> int | None:
    """Rows the table's current snapshot holds, as Iceberg's summary counts them
    (``total-records``: every row committed, an upsert's replaced rows included, equality
    deletes not subtracted); 0 before the first commit, None when the table is missing."""
    catalog = open_catalog(location)
    if not catalog.table_exists((DEFAULT_NAMESPACE, name)):
        return None
    snapshot = catalog.load_table((DEFAULT_NAMESPACE, name)).current_snapshot()
    if snapshot is None or snapshot.summary is None:
        return 0
    total = snapshot.summary.get("total-records")
    return int(total) if total is not None else None


def drop_table(location: CatalogLocation, name: str) -> None:
    """Remove the table from the catalog and delete its files (kappanb owns output tables)."""
    catalog = open_catalog(location)
    if not catalog.table_exists((DEFAULT_NAMESPACE, name)):
        return
    table_dir = _local_path(catalog.load_table((DEFAULT_NAMESPACE, name)).location())
    catalog.drop_table((DEFAULT_NAMESPACE, name))
    if table_dir is not None and location.warehouse in table_dir.parents:
        shutil.rmtree(table_dir, ignore_errors=True)


def _local_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        return None
    return Path(unquote(parsed.path))


SERVING_PROPERTY = "kappanb.serving.{job}"
"""Namespace property naming the table a job's readers get: the alias, for other tools."""


def publish_serving(location: CatalogLocation, job: str, table: str) -> None:
    """Mirror a job's serving alias into the Iceberg catalog (a namespace property)."""
    open_catalog(location).update_namespace_properties(
        DEFAULT_NAMESPACE, updates={SERVING_PROPERTY.format(job=job): table}
    )


def serving_table(location: CatalogLocation, job: str) -> str | None:
    """The table the catalog names as ``job``'s serving version, as another tool finds it."""
    properties = open_catalog(location).load_namespace_properties(DEFAULT_NAMESPACE)
    value = properties.get(SERVING_PROPERTY.format(job=job))
    return str(value) if value else None
