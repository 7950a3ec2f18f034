"""The serving view's metadata, built without I/O: what Iceberg's Java readers parse."""

from __future__ import annotations

import json

from pyiceberg.schema import Schema
from pyiceberg.types import DateType, LongType, NestedField, StringType
from pyiceberg.view.metadata import ViewMetadata

from kappanb.tables.view_metadata import (
    DIALECTS,
    first_view_metadata,
    metadata_file_name,
    next_view_metadata,
    served_table,
    to_json,
    view_sql,
)

TABLE_SCHEMA = Schema(
    NestedField(1, "day", DateType(), required=True),
    NestedField(2, "payments", LongType(), required=False),
    schema_id=3,
    identifier_field_ids=[1],
)


def first() -> ViewMetadata:
    return first_view_metadata(
        "file:///w/default/daily", TABLE_SCHEMA, "daily__v1", "default", now_ms=1000,
        view_uuid="8f1d2c3e-0000-4000-8000-000000000001",
    )  # fmt: skip


def test_view_sql_quotes_the_table_each_dialects_way() -> None:
    assert view_sql("daily__v1", "spark") == "SELECT * FROM `daily__v1`"
    assert view_sql("daily__v1", "trino") == 'SELECT * FROM "daily__v1"'
    assert view_sql("odd`name", "spark") == "SELECT * FROM `odd``name`"


def test_first_view_selects_from_the_served_table_in_every_dialect() -> None:
    written = json.loads(to_json(first()))
    assert written["format-version"] == 1
    assert written["view-uuid"] == "8f1d2c3e-0000-4000-8000-000000000001"
    assert written["location"] == "file:///w/default/daily"
    assert written["current-version-id"] == 1
    (version,) = written["versions"]
    assert version["default-namespace"] == ["default"]
    assert "default-catalog" not in version  # resolved in whatever catalog loads the view
    assert version["summary"]["operation"] == "create"
    assert {r["dialect"]: r["sql"] for r in version["representations"]} == {
        d: view_sql("daily__v1", d) for d in DIALECTS
    }
    assert all(r["type"] == "sql" for r in version["representations"])
    (schema,) = written["schemas"]
    assert schema["schema-id"] == version["schema-id"] == 0
    assert [f["name"] for f in schema["fields"]] == ["day", "payments"]
    assert schema["identifier-field-ids"] == []
    assert written["version-log"] == [{"timestamp-ms": 1000, "version-id": 1}]
    assert ViewMetadata.model_validate_json(to_json(first())) == first()  # round trip


def test_next_version_points_at_the_new_table_and_keeps_the_history() -> None:
    promoted = next_view_metadata(first(), TABLE_SCHEMA, "daily__v2", "default", now_ms=2000)
    rolled_back = next_view_metadata(promoted, TABLE_SCHEMA, "daily__v1", "default", 3000)
    assert served_table(first()) == "daily__v1"
    assert served_table(promoted) == "daily__v2"
    assert served_table(rolled_back) == "daily__v1"
    assert rolled_back.view_uuid == first().view_uuid
    assert rolled_back.current_version_id == 3
    assert [v.version_id for v in rolled_back.versions] == [1, 2, 3]
    assert [(e.version_id, e.timestamp_ms) for e in rolled_back.version_log] == [
        (1, 1000), (2, 2000), (3, 3000)
    ]  # fmt: skip
    assert len(rolled_back.schemas) == 1  # same columns: the known schema is reused
    assert rolled_back.versions[-1].summary["operation"] == "replace"


def test_a_table_with_other_columns_adds_a_schema() -> None:
    wider = Schema(*TABLE_SCHEMA.fields, NestedField(3, "merchant", StringType()), schema_id=0)
    replaced = next_view_metadata(first(), wider, "daily__v2", "default", now_ms=2000)
    assert [s.schema_id for s in replaced.schemas] == [0, 1]
    assert replaced.versions[-1].schema_id == 1
    assert [f.name for f in replaced.schemas[1].fields] == ["day", "payments", "merchant"]


def test_metadata_file_names_count_up_as_icebergs_do() -> None:
    name = metadata_file_name(None)
    assert name.startswith("00000-") and name.endswith(".metadata.json")
    later = metadata_file_name(f"file:///w/default/daily/metadata/{name}")
    assert later.startswith("00001-") and later != name
    assert metadata_file_name("file:///w/v/metadata/00041-ab.metadata.json").startswith("00042-")
