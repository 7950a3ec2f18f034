"""The Iceberg view that serves a job: its metadata, built without I/O.

A job's view (``<catalog>.default.<job>``) selects every column of the served version's
table. Each promote or rollback adds a view version whose SQL names the new table; the
view's history is its version log. The SQL names the table unqualified and the version's
``default-namespace`` is ``default``, with no ``default-catalog``: an engine resolves the
name in the catalog it loaded the view from, whatever that catalog is called there.

Representations are given for the dialects readers ask for (Spark, Trino): the same query,
quoted each dialect's way. The view's schema is the served table's schema (without its
identifier fields, which a view has no use for).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from pyiceberg.schema import Schema
from pyiceberg.view.metadata import (
    SQLViewRepresentation,
    ViewHistoryEntry,
    ViewMetadata,
    ViewRepresentation,
    ViewVersion,
)

DIALECTS = ("spark", "trino")
"""The SQL dialects each view version carries a representation for."""

ENGINE_NAME = "kappanb"
TABLE_KEY = "kappanb.table"
"""The key of a view version's summary naming the table it selects from."""
_QUOTES = {"spark": ("`", "`"), "trino": ('"', '"')}
_METADATA_FILE = re.compile(r"(\d+)-[0-9a-fA-F-]+\.metadata\.json$")


def view_sql(table: str, dialect: str) -> str:
    """``SELECT * FROM <table>`` in ``dialect``, the name quoted its way (quotes doubled)."""
    opening, closing = _QUOTES[dialect]
    return f"SELECT * FROM {opening}{table.replace(closing, closing * 2)}{closing}"


def representations(table: str, dialects: Sequence[str] = DIALECTS) -> list[ViewRepresentation]:
    return [
        ViewRepresentation(SQLViewRepresentation(type="sql", sql=view_sql(table, d), dialect=d))
        for d in dialects
    ]


def view_version(
    version_id: int, schema_id: int, table: str, namespace: str, now_ms: int, operation: str
) -> ViewVersion:
    """One version of a job's view: its SQL selects from ``table`` in ``namespace``."""
    return ViewVersion.model_validate(
        {
            "version-id": version_id,
            "schema-id": schema_id,
            "timestamp-ms": now_ms,
            "summary": {"operation": operation, "engine-name": ENGINE_NAME, TABLE_KEY: table},
            "representations": representations(table),
            "default-namespace": [namespace],
        }
    )


def view_schema(table_schema: Schema, schema_id: int) -> Schema:
    """The table's columns as a view schema with id ``schema_id``."""
    return Schema(*table_schema.fields, schema_id=schema_id, identifier_field_ids=[])


def first_view_metadata(
    location: str, table_schema: Schema, table: str, namespace: str, now_ms: int,
    view_uuid: str | None = None,
) -> ViewMetadata:  # fmt: skip
    """A new view (version 1) selecting from ``table``."""
    return ViewMetadata.model_validate(
        {
            "view-uuid": view_uuid or str(uuid.uuid4()),
            "format-version": 1,
            "location": location,
            "schemas": [view_schema(table_schema, 0)],
            "current-version-id": 1,
            "versions": [view_version(1, 0, table, namespace, now_ms, "create")],
            "version-log": [_log_entry(now_ms, 1)],
            "properties": {"created-by": ENGINE_NAME},
        }
    )


def next_view_metadata(
    current: ViewMetadata, table_schema: Schema, table: str, namespace: str, now_ms: int
) -> ViewMetadata:
    """``current`` with a new current version selecting from ``table`` (its schema added
    when it differs from every schema the view knows)."""
    schemas = list(current.schemas)
    known = next((s for s in schemas if s.fields == table_schema.fields), None)
    if known is None:
        known = view_schema(table_schema, max(s.schema_id for s in schemas) + 1)
        schemas.append(known)
    version_id = max(v.version_id for v in current.versions) + 1
    version = view_version(version_id, known.schema_id, table, namespace, now_ms, "replace")
    return current.model_copy(
        update={
            "schemas": schemas,
            "current_version_id": version_id,
            "versions": [*current.versions, version],
            "version_log": [
                *current.version_log,
                _log_entry(now_ms, version_id),
            ],
        }
    )


def _log_entry(now_ms: int, version_id: int) -> ViewHistoryEntry:
    return ViewHistoryEntry.model_validate({"timestamp-ms": now_ms, "version-id": version_id})


def served_table(metadata: ViewMetadata) -> str | None:
    """The table the view's current version selects from (as kappanb recorded it)."""
    current = next(v for v in metadata.versions if v.version_id == metadata.current_version_id)
    return current.summary.get(TABLE_KEY)


def metadata_file_name(previous: str | None) -> str:
    """``NNNNN-<uuid>.metadata.json``: the number one past ``previous``'s (0 for the first),
    as Iceberg names metadata files."""
    number = 0
    if previous is not None:
        found = _METADATA_FILE.search(previous)
        number = int(found.group(1)) + 1 if found else 0
    return f"{number:05d}-{uuid.uuid4()}.metadata.json"


def to_json(metadata: ViewMetadata) -> str:
    return metadata.model_dump_json()
