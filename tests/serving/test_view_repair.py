"""`up` mends serving views that disagree with the registry (no stack: a real SQLite
registry and JDBC catalog): a job served before views existed gets one, a view left a
switch ahead (a crash between the catalog's step and the registry's) goes back, a view
that agrees is not touched, and a job held by another command is left for the next `up`."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import DateType, LongType, NestedField

from kappanb.registry.store import LocalRegistry
from kappanb.serving.view_repair import mend_views
from kappanb.tables.catalog import CatalogLocation, serving_table
from kappanb.tables.serving_view import jdbc_view_location, publish_serving, serving_view_table
from tests.registry.test_store import _draft

SCHEMA = Schema(NestedField(1, "day", DateType(), required=True), NestedField(2, "n", LongType()))


@pytest.fixture()
def catalog(tmp_path: Path) -> CatalogLocation:
    location = CatalogLocation("kappanb", tmp_path / "catalog.db", tmp_path / "warehouse")
    location.init()
    for job in ("daily", "hourly"):
        for version in (1, 2):
            location.open().create_table(("default", f"{job}__v{version}"), SCHEMA)
    return location


@pytest.fixture()
def registry(tmp_path: Path) -> LocalRegistry:
    registry = LocalRegistry(tmp_path / "registry.sqlite")
    for job in ("daily", "hourly", "unserved"):
        registry.add_version(_draft(job, "d1"))
        registry.add_version(_draft(job, "d2"))
    return registry


def _view_location(catalog: CatalogLocation, job: str) -> str | None:
    import sqlite3

    with sqlite3.connect(catalog.database) as conn:
        return jdbc_view_location(conn, catalog.name, job)


def test_views_are_made_to_read_what_the_registry_serves(
    registry: LocalRegistry, catalog: CatalogLocation
) -> None:
    # served before views existed: the registry switched, the catalog has no view
    registry.switch("daily", 1, "daily__v1", kind="first live run", expect_from=None)
    registry.switch("daily", 2, "daily__v2", kind="promote", expect_from=1)
    # a view one switch ahead: the catalog's step ran, the registry's did not
    registry.switch("hourly", 1, "hourly__v1", kind="first live run", expect_from=None)
    publish_serving(catalog, "hourly", "hourly__v1")
    publish_serving(catalog, "hourly", "hourly__v2")
    assert serving_view_table(catalog, "daily") is None
    assert serving_view_table(catalog, "hourly") == "hourly__v2"

    said = mend_views(registry, catalog)

    assert said == [
        "daily: its Iceberg view now reads daily__v2, the served v2 (had no view)",
        "hourly: its Iceberg view now reads hourly__v1, the served v1 (its view read hourly__v2)",
    ]
    assert serving_view_table(catalog, "daily") == "daily__v2"
    assert serving_view_table(catalog, "hourly") == "hourly__v1"
    assert serving_table(catalog, "hourly") == "hourly__v1"  # the property follows too
    assert serving_view_table(catalog, "unserved") is None  # nothing served: no view

    untouched = {job: _view_location(catalog, job) for job in ("daily", "hourly")}
    assert mend_views(registry, catalog) == []  # all agree: nothing written
    assert {job: _view_location(catalog, job) for job in ("daily", "hourly")} == untouched


def test_a_job_another_command_holds_is_left_for_the_next_up(
    registry: LocalRegistry, catalog: CatalogLocation
) -> None:
    registry.switch("daily", 1, "daily__v1", kind="first live run", expect_from=None)
    held, release = threading.Event(), threading.Event()

    def promote_in_progress() -> None:
        with registry.job_lock("daily", "promote daily v2"):
            held.set()
            release.wait(30)

    other = threading.Thread(target=promote_in_progress)
    other.start()
    try:
        assert held.wait(30)
        said = mend_views(registry, catalog)
    finally:
        release.set()
        other.join()
    assert said == ["daily: another command is changing it; the next `up` checks its view"]
    assert serving_view_table(catalog, "daily") is None
    assert mend_views(registry, catalog) == [
        "daily: its Iceberg view now reads daily__v1, the served v1 (had no view)"
    ]


def test_a_served_table_the_catalog_lost_is_said_and_the_view_left_alone(
    registry: LocalRegistry, catalog: CatalogLocation
) -> None:
    registry.switch("daily", 1, "daily__v1", kind="first live run", expect_from=None)
    catalog.open().drop_table(("default", "daily__v1"))
    (said,) = mend_views(registry, catalog)
    assert "serves daily__v1, which the catalog no longer has" in said
    assert serving_view_table(catalog, "daily") is None


def test_no_catalog_yet_means_nothing_to_mend(tmp_path: Path, registry: LocalRegistry) -> None:
    registry.switch("daily", 1, "daily__v1", kind="first live run", expect_from=None)
    missing = CatalogLocation("kappanb", tmp_path / "none" / "catalog.db", tmp_path / "wh")
    assert mend_views(registry, missing) == []
    assert serving_view_table(missing, "daily") is None
    assert not missing.database.exists()  # asking made no catalog
