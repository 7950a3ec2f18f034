"""The table properties that make Iceberg's Flink sink maintain an output table, and how a
resumed run tells a maintained table from one created without maintenance."""

from __future__ import annotations

from pathlib import Path

from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField

from kappanb.tables.catalog import DEFAULT_NAMESPACE, CatalogLocation, init_catalog, open_catalog
from kappanb.tables.maintenance import (
    EXPIRE,
    ORPHANS,
    REWRITE,
    MaintenancePolicy,
    maintained,
    table_maintained,
)


def test_default_policy_turns_every_task_on_with_its_schedule() -> None:
    props = MaintenancePolicy().table_properties()
    assert props[REWRITE] == props[EXPIRE] == props[ORPHANS] == "true"
    assert props["flink-maintenance.rewrite.schedule.commit-count"] == "5"
    assert props["flink-maintenance.rewrite.min-input-files"] == "5"
    assert props["flink-maintenance.expire-snapshots.max-snapshot-age-seconds"] == "3600"
    assert props["flink-maintenance.expire-snapshots.retain-last"] == "10"
    assert props["flink-maintenance.delete-orphan-files.min-age-seconds"] == str(3 * 86400)
    assert props["flink-maintenance.rate-limit-seconds"] == "10"
    assert props["write.metadata.delete-after-commit.enabled"] == "true"
    assert props["commit.manifest.min-count-to-merge"] == "10"


def test_policy_values_reach_their_keys() -> None:
    policy = MaintenancePolicy(rewrite_every_commits=3, rate_limit_s=5, retain_last=4,
                               snapshot_age_s=60, orphan_min_age_s=120,
                               merge_manifests_at=4)  # fmt: skip
    props = policy.table_properties()
    assert props["flink-maintenance.rewrite.schedule.commit-count"] == "3"
    assert props["flink-maintenance.rate-limit-seconds"] == "5"
    assert props["flink-maintenance.expire-snapshots.retain-last"] == "4"
    assert props["flink-maintenance.expire-snapshots.max-snapshot-age-seconds"] == "60"
    assert props["flink-maintenance.delete-orphan-files.min-age-seconds"] == "120"
    assert props["commit.manifest.min-count-to-merge"] == "4"
    assert all(
        k.startswith(("flink-maintenance.", "write.metadata.", "commit.manifest.")) for k in props
    )


def test_maintained_needs_a_task_switched_on() -> None:
    assert maintained(MaintenancePolicy().table_properties())
    assert maintained({EXPIRE: "TRUE"})
    assert not maintained({})
    assert not maintained({REWRITE: "false", "write.upsert.enabled": "true"})


def test_table_maintained_reads_the_catalog(tmp_path: Path) -> None:
    location = CatalogLocation("kappanb", tmp_path / "catalog.db", tmp_path / "warehouse")
    init_catalog(location)
    catalog = open_catalog(location)
    schema = Schema(NestedField(1, "n", LongType(), required=False))
    props = MaintenancePolicy().table_properties()
    catalog.create_table((DEFAULT_NAMESPACE, "kept__v1"), schema, properties=props)
    catalog.create_table((DEFAULT_NAMESPACE, "plain__v1"), schema)
    assert table_maintained(location, "kept__v1")
    assert not table_maintained(location, "plain__v1")
    assert not table_maintained(location, "missing__v1")
