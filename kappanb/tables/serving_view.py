"""A job's serving version, published in the Iceberg catalog: a view and a namespace property.

`publish_serving` runs as the ``also`` step of a registry switch (promote, rollback, a
first live run), so when it fails nothing is switched. It points the Iceberg view
``default.<job>`` at the served table (see `kappanb.tables.view_metadata`) and sets the
namespace property ``kappanb.serving.<job>`` (which pyiceberg users read, since pyiceberg
does not resolve views).

* Embedded JDBC catalog (SQLite): pyiceberg's SqlCatalog cannot write views, so kappanb
  writes what Iceberg's Java ``JdbcCatalog`` reads: a view-metadata file in the warehouse
  and a row of ``iceberg_tables`` with ``iceberg_type = 'VIEW'``. The row's swap (compare
  and swap on ``metadata_location``, as ``JdbcViewOperations`` commits) and the namespace
  property change in ONE SQLite transaction: one catalog commit moves both.
* REST catalog: the view endpoints (create, or a commit asserting the view's uuid that
  adds a version and makes it current), then the namespace property. A catalog without
  view endpoints keeps the property only; kappanb says so once per process.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyiceberg.view.metadata import ViewMetadata

from kappanb.exceptions import ServingViewConflictError
from kappanb.tables.catalog import (
    DEFAULT_NAMESPACE,
    SERVING_PROPERTY,
    Catalog,
    CatalogLocation,
    open_catalog,
)
from kappanb.tables.view_metadata import (
    first_view_metadata,
    metadata_file_name,
    next_view_metadata,
    served_table,
    to_json,
)

log = logging.getLogger("kappanb.serving_view")
VIEW_TYPE = "VIEW"


def publish_serving(location: Catalog, job: str, table: str) -> bool:
    """Point ``job``'s view and namespace property at ``table`` (which exists); False when
    the catalog keeps no views (a REST catalog without view endpoints: the property only)."""
    if isinstance(location, CatalogLocation):
        commit_jdbc_view(location, job, table)
        return True
    from kappanb.tables.rest_view import publish_rest_view

    catalog = open_catalog(location)
    published = publish_rest_view(catalog, job, table)
    catalog.update_namespace_properties(
        DEFAULT_NAMESPACE, updates={SERVING_PROPERTY.format(job=job): table}
    )
    return published


def drop_serving_view(location: Catalog, job: str) -> None:
    """Remove ``job``'s view and namespace property (when the job goes away)."""
    if isinstance(location, CatalogLocation):
        _drop_jdbc_view(location, job)
        return
    from kappanb.tables.rest_view import drop_rest_view

    catalog = open_catalog(location)
    drop_rest_view(catalog, job)
    catalog.update_namespace_properties(
        DEFAULT_NAMESPACE, removals={SERVING_PROPERTY.format(job=job)}
    )


def serving_view_table(location: Catalog, job: str) -> str | None:
    """The table ``job``'s view selects from, as the catalog holds it (None: no view)."""
    if isinstance(location, CatalogLocation):
        if not location.database.is_file():  # no catalog yet: no view either
            return None
        with closing(sqlite3.connect(f"file:{location.database}?mode=ro", uri=True)) as conn:
            if "iceberg_type" not in _columns(conn):
                return None
            found = jdbc_view_location(conn, location.name, job)
        return None if found is None else served_table(read_view_metadata(found))
    from kappanb.tables.rest_view import rest_view_table

    return rest_view_table(open_catalog(location), job)


# ---- the embedded JDBC catalog -------------------------------------------------------------
def commit_jdbc_view(location: CatalogLocation, job: str, table: str) -> None:
    """Write the view's next metadata file, then swap the view row and set the namespace
    property in one SQLite transaction; the file goes again when the transaction fails."""
    table_schema = open_catalog(location).load_table((DEFAULT_NAMESPACE, table)).schema()
    with closing(sqlite3.connect(location.database, timeout=30, isolation_level=None)) as conn:
        _ensure_record_type(conn)
        previous = jdbc_view_location(conn, location.name, job)
        now_ms = int(time.time() * 1000)
        if previous is None:
            base = location.warehouse / DEFAULT_NAMESPACE / job
            metadata = first_view_metadata(
                base.as_uri(), table_schema, table, DEFAULT_NAMESPACE, now_ms
            )
        else:
            metadata = next_view_metadata(
                read_view_metadata(previous), table_schema, table, DEFAULT_NAMESPACE, now_ms
            )
            base = _local_path(metadata.location)
        written = base / "metadata" / metadata_file_name(previous)
        written.parent.mkdir(parents=True, exist_ok=True)
        written.write_text(to_json(metadata))
        try:
            conn.execute("BEGIN IMMEDIATE")
            _swap_view_row(conn, location.name, job, previous, written.as_uri())
            _set_property(conn, location.name, SERVING_PROPERTY.format(job=job), table)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            written.unlink(missing_ok=True)
            raise


def jdbc_view_location(conn: sqlite3.Connection, catalog: str, job: str) -> str | None:
    """The view row's ``metadata_location``, or None when the job has no view yet."""
    row = conn.execute(
        "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND "
        "table_namespace = ? AND table_name = ? AND iceberg_type = ?",
        (catalog, DEFAULT_NAMESPACE, job, VIEW_TYPE),
    ).fetchone()
    return None if row is None else str(row[0])


def read_view_metadata(metadata_location: str) -> ViewMetadata:
    return ViewMetadata.model_validate_json(_local_path(metadata_location).read_text())


def _swap_view_row(
    conn: sqlite3.Connection, catalog: str, job: str, previous: str | None, new: str
) -> None:
    key = (catalog, DEFAULT_NAMESPACE, job)
    if previous is None:
        taken = conn.execute(
            "SELECT iceberg_type FROM iceberg_tables WHERE catalog_name = ? AND "
            "table_namespace = ? AND table_name = ?",
            key,
        ).fetchone()
        if taken is not None:
            raise ServingViewConflictError(
                f"the catalog already has a {taken[0] or 'TABLE'} named {DEFAULT_NAMESPACE}."
                f"{job}, so kappanb cannot create {job}'s view: drop or rename it, then retry"
            )
        conn.execute(
            "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
            "metadata_location, previous_metadata_location, iceberg_type) "
            "VALUES (?, ?, ?, ?, NULL, ?)",
            (*key, new, VIEW_TYPE),
        )
        return
    swapped = conn.execute(
        "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? "
        "WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND "
        "metadata_location = ? AND iceberg_type = ?",
        (new, previous, *key, previous, VIEW_TYPE),
    ).rowcount
    if swapped != 1:
        raise ServingViewConflictError(
            f"{job}'s view changed while kappanb switched it (another writer committed "
            "first): nothing was switched, retry"
        )


def _set_property(conn: sqlite3.Connection, catalog: str, key: str, value: str) -> None:
    where = (catalog, DEFAULT_NAMESPACE, key)
    updated = conn.execute(
        "UPDATE iceberg_namespace_properties SET property_value = ? "
        "WHERE catalog_name = ? AND namespace = ? AND property_key = ?",
        (value, *where),
    ).rowcount
    if not updated:
        conn.execute(
            "INSERT INTO iceberg_namespace_properties "
            "(catalog_name, namespace, property_key, property_value) VALUES (?, ?, ?, ?)",
            (*where, value),
        )


def _ensure_record_type(conn: sqlite3.Connection) -> None:
    """Add ``iceberg_type`` to a catalog made before it (as Java's V1 migration does)."""
    if "iceberg_type" not in _columns(conn):
        conn.execute("ALTER TABLE iceberg_tables ADD COLUMN iceberg_type VARCHAR(5)")


def _drop_jdbc_view(location: CatalogLocation, job: str) -> None:
    with closing(sqlite3.connect(location.database, timeout=30, isolation_level=None)) as conn:
        if "iceberg_type" not in _columns(conn):
            return
        previous = jdbc_view_location(conn, location.name, job)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND "
            "table_name = ? AND iceberg_type = ?",
            (location.name, DEFAULT_NAMESPACE, job, VIEW_TYPE),
        )
        conn.execute(
            "DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND "
            "namespace = ? AND property_key = ?",
            (location.name, DEFAULT_NAMESPACE, SERVING_PROPERTY.format(job=job)),
        )
        conn.execute("COMMIT")
    if previous is not None:
        metadata_dir = _local_path(previous).parent
        for leftover in metadata_dir.glob("*.metadata.json"):
            leftover.unlink(missing_ok=True)


def _columns(conn: sqlite3.Connection) -> set[str]:
    return {row[1] for row in conn.execute("PRAGMA table_info(iceberg_tables)")}


def _local_path(uri: str) -> Path:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path))
