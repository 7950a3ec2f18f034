"""The serving view on a real SQLite JDBC catalog (no stack): rows, files, conflicts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import DateType, LongType, NestedField

from kappanb.exceptions import ServingViewConflictError
from kappanb.tables import serving_view
from kappanb.tables.catalog import CatalogLocation, serving_table
from kappanb.tables.serving_view import (
    drop_serving_view,
    jdbc_view_location,
    publish_serving,
    read_view_metadata,
    serving_view_table,
)
from kappanb.tables.view_metadata import served_table

SCHEMA = Schema(
    NestedField(1, "day", DateType(), required=True), NestedField(2, "payments", LongType())
)


@pytest.fixture()
def catalog(tmp_path: Path) -> CatalogLocation:
    location = CatalogLocation("kappanb", tmp_path / "catalog.db", tmp_path / "warehouse")
    location.init()
    for version in (1, 2):
        location.open().create_table(("default", f"daily__v{version}"), SCHEMA)
    return location


def view_row(location: CatalogLocation) -> tuple[str, str | None, str]:
    with sqlite3.connect(location.database) as conn:
        row = conn.execute(
            "SELECT metadata_location, previous_metadata_location, iceberg_type "
            "FROM iceberg_tables WHERE table_name = 'daily'"
        ).fetchone()
    return row[0], row[1], row[2]


def test_switches_move_the_view_row_and_the_property_together(catalog: CatalogLocation) -> None:
    assert serving_view_table(catalog, "daily") is None
    publish_serving(catalog, "daily", "daily__v1")
    assert serving_view_table(catalog, "daily") == "daily__v1"
    first, previous, kind = view_row(catalog)
    assert kind == "VIEW" and previous is None
    assert first.startswith((catalog.warehouse / "default" / "daily" / "metadata").as_uri())
    assert served_table(read_view_metadata(first)) == "daily__v1"
    assert serving_table(catalog, "daily") == "daily__v1"

    publish_serving(catalog, "daily", "daily__v2")
    second, previous, _ = view_row(catalog)
    assert previous == first and second != first
    replaced = read_view_metadata(second)
    assert served_table(replaced) == "daily__v2" and replaced.current_version_id == 2
    assert replaced.view_uuid == read_view_metadata(first).view_uuid
    assert serving_table(catalog, "daily") == "daily__v2"
    # the view is no table for pyiceberg nor for kappanb's count
    assert sorted(catalog.open().list_tables("default")) == [
        ("default", "daily__v1"), ("default", "daily__v2")
    ]  # fmt: skip
    assert catalog.table_count() == 2


def test_a_racing_writer_makes_the_switch_fail_whole(
    catalog: CatalogLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_serving(catalog, "daily", "daily__v1")
    stale = view_row(catalog)[0]
    publish_serving(catalog, "daily", "daily__v2")  # another writer moved the view since
    files_before = set((catalog.warehouse / "default" / "daily" / "metadata").iterdir())
    monkeypatch.setattr(serving_view, "jdbc_view_location", lambda *_args: stale)
    with pytest.raises(ServingViewConflictError, match="changed while kappanb switched it"):
        publish_serving(catalog, "daily", "daily__v1")
    assert served_table(read_view_metadata(view_row(catalog)[0])) == "daily__v2"
    assert serving_table(catalog, "daily") == "daily__v2"  # the property did not move alone
    assert set((catalog.warehouse / "default" / "daily" / "metadata").iterdir()) == files_before


def test_a_table_of_the_jobs_name_is_never_overwritten(catalog: CatalogLocation) -> None:
    catalog.open().create_table(("default", "daily"), SCHEMA)
    with pytest.raises(ServingViewConflictError, match=r"already has a TABLE named default\.daily"):
        publish_serving(catalog, "daily", "daily__v1")
    assert serving_table(catalog, "daily") is None


def test_dropping_the_view_removes_row_property_and_files(catalog: CatalogLocation) -> None:
    publish_serving(catalog, "daily", "daily__v1")
    drop_serving_view(catalog, "daily")
    with sqlite3.connect(catalog.database) as conn:
        assert jdbc_view_location(conn, "kappanb", "daily") is None
    assert serving_table(catalog, "daily") is None
    assert not list((catalog.warehouse / "default" / "daily" / "metadata").glob("*.json"))
