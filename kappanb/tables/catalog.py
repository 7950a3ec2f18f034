"""The Iceberg catalog shared by Flink and Python, of one of two kinds behind one interface.

* `CatalogLocation`: the embedded stack's SQLite JDBC catalog and local warehouse. Flink
  reaches it as ``org.apache.iceberg.jdbc.JdbcCatalog`` (``catalog-impl``), Python as
  pyiceberg's ``SqlCatalog``; both use the same catalog name, so both see the same
  ``iceberg_tables`` rows.
* `kappanb.tables.rest_catalog.RestCatalogLocation`: a cluster profile's Iceberg REST
  catalog over object storage (S3 file IO), for Flink's sink and pyiceberg alike.

The functions below (and the reads in `kappanb.tables.read`) take either kind: they go
through pyiceberg's catalog and its table's FileIO, never through local paths, except where
a kind says how (its `table_count`, `purge`). Flink is the only writer of table data.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from kappanb.core.names import literal, quote
from kappanb.core.secrets import Secret

DEFAULT_NAMESPACE = "default"


class Catalog(Protocol):
    """Where output tables live, as Flink's SQL and pyiceberg reach them."""

    @property
    def name(self) -> str:
        """The catalog's name in Flink SQL (``catalog.default.table``) and in pyiceberg."""
        ...

    @property
    def secrets(self) -> Mapping[str, Secret]:
        """What `flink_ddl` and `open` carry that nobody may see (for redaction)."""
        ...

    def flink_ddl(self) -> str:
        """``CREATE CATALOG`` for a Flink SQL session (holds the secrets, for Flink only)."""
        ...

    def flink_properties(self) -> dict[str, str]:
        """The options of `flink_ddl` (secrets revealed, for Flink only): an Iceberg
        ``connector`` table outside the catalog reaches it with them."""
        ...

    def open(self) -> Any:
        """pyiceberg's catalog."""
        ...

    def init(self) -> None:
        """Make the catalog usable (its default namespace); idempotent."""
        ...

    def table_count(self) -> int | None:
        """How many tables it lists, or None when it cannot be asked."""
        ...

    def purge(self, name: str) -> None:
        """Drop table ``name`` (it exists) and delete its files."""
        ...


def ddl_with(name: str, props: Mapping[str, str]) -> str:
    """``CREATE CATALOG IF NOT EXISTS name WITH (...)``, every value a SQL literal (paths and
    secrets may hold a quote: quotes doubled)."""
    body = ",\n  ".join(f"{literal(k)} = {literal(v)}" for k, v in props.items())
    return f"CREATE CATALOG IF NOT EXISTS {quote(name)} WITH (\n  {body}\n)"


@dataclass(frozen=True)
class CatalogLocation:
    """The SQLite JDBC catalog: where its database and the warehouse are."""

    name: str
    database: Path
    warehouse: Path

    @property
    def secrets(self) -> Mapping[str, Secret]:
        return {}

    @property
    def sqlalchemy_uri(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def jdbc_uri(self) -> str:
        return f"jdbc:sqlite:{self.database}"

    def flink_ddl(self) -> str:
        return ddl_with(self.name, self.flink_properties())

    def flink_properties(self) -> dict[str, str]:
        return {
            "type": "iceberg",
            "catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
            "uri": self.jdbc_uri,
            "warehouse": self.warehouse.as_uri(),
            "default-database": DEFAULT_NAMESPACE,
            "jdbc.schema-version": "V1",
            # Passed to the SQLite driver: wait for a lock rather than fail.
            "jdbc.busy_timeout": "30000",
        }

    def open(self) -> Any:
        """pyiceberg's SqlCatalog over the shared database (creates its tables if missing)."""
        from pyiceberg.catalog.sql import SqlCatalog

        self.warehouse.mkdir(parents=True, exist_ok=True)
        return SqlCatalog(self.name, uri=self.sqlalchemy_uri, warehouse=self.warehouse.as_uri())

    def init(self) -> None:
        self.database.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.database) as conn:
            # WAL lets pyiceberg read while Flink's committer writes.
            conn.execute("PRAGMA journal_mode=WAL")
        self.open().create_namespace_if_not_exists(DEFAULT_NAMESPACE)

    def table_count(self) -> int | None:
        """Read from the database file itself (no pyiceberg): None when missing or broken."""
        if not self.database.is_file():
            return None
        try:
            with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as conn:
                columns = {c[1] for c in conn.execute("PRAGMA table_info(iceberg_tables)")}
                tables_only = (  # not the jobs' views (`kappanb.tables.serving_view`)
                    " AND (iceberg_type IS NULL OR iceberg_type = 'TABLE')"
                    if "iceberg_type" in columns
                    else ""
                )
                row = conn.execute(
                    "SELECT count(*) FROM iceberg_tables WHERE catalog_name = ?" + tables_only,
                    (self.name,),
                ).fetchone()
        except sqlite3.Error:
            return None
        return int(row[0])

    def purge(self, name: str) -> None:
        catalog = self.open()
        table_dir = _local_path(catalog.load_table((DEFAULT_NAMESPACE, name)).location())
        catalog.drop_table((DEFAULT_NAMESPACE, name))
        if table_dir is not None and self.warehouse in table_dir.parents:
            shutil.rmtree(table_dir, ignore_errors=True)


def _local_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        return None
    return Path(unquote(parsed.path))


def open_catalog(location: Catalog) -> Any:
    """pyiceberg's catalog of either kind."""
    return location.open()


def init_catalog(location: Catalog) -> None:
    """Create what the catalog needs and the default namespace; idempotent."""
    location.init()


def catalog_table_count(location: Catalog) -> int | None:
    """How many tables the catalog lists, or None when it cannot say."""
    return location.table_count()


def table_exists(location: Catalog, name: str) -> bool:
    return bool(open_catalog(location).table_exists((DEFAULT_NAMESPACE, name)))


def table_has_data(location: Catalog, name: str) -> bool:
    """True when a run has committed anything to the table (it has a snapshot)."""
    catalog = open_catalog(location)
    if not catalog.table_exists((DEFAULT_NAMESPACE, name)):
        return False
    return catalog.load_table((DEFAULT_NAMESPACE, name)).current_snapshot() is not None


def committed_rows(location: Catalog, name: str) -> int | None:
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


def drop_table(location: Catalog, name: str) -> None:
    """Remove the table from the catalog and delete its files (kappanb owns output tables)."""
    if table_exists(location, name):
        location.purge(name)


SERVING_PROPERTY = "kappanb.serving.{job}"
"""Namespace property naming the table a job's readers get: the alias, for other tools
(`kappanb.tables.serving_view` sets it, beside the job's view)."""


def serving_table(location: Catalog, job: str) -> str | None:
    """The table the catalog names as ``job``'s serving version, as another tool finds it."""
    properties = open_catalog(location).load_namespace_properties(DEFAULT_NAMESPACE)
    value = properties.get(SERVING_PROPERTY.format(job=job))
    return str(value) if value else None
