"""Which outputs `forget` names, on hand-made tables and a registry (no stack): every table
of every version that reads the topic, counted row by row when it has the condition's
columns, said to be unknowable otherwise; a version never run; nothing of other topics."""

from __future__ import annotations

from pathlib import Path

from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField

from kappanb.history.forget import NEVER_RUN, derived_tables
from kappanb.registry.base import now
from kappanb.registry.records import JobVersion, RunRecord
from kappanb.registry.store import LocalRegistry
from kappanb.tables.catalog import CatalogLocation
from kappanb.tables.where import parse_where
from tests.tables.upsert_tables import commit_delta, data_file, new_table


def version(registry: LocalRegistry, job: str, sources: tuple[str, ...]) -> None:
    registry.add_version(JobVersion(job, 0, "sql", f"SELECT {job}", f"digest-{job}", "",
                                    sources=sources))  # fmt: skip


def ran(registry: LocalRegistry, job: str, table: str) -> None:
    registry.add_run(RunRecord(
        id=0, job=job, version=1, mode="live", table=table, group_id=f"g.{job}",
        start="earliest", until=None, flink_job_id="f", state="RUNNING", started_at=now(),
    ))  # fmt: skip


def test_outputs_are_checked_where_they_can_be_and_named_where_they_cannot(
    tmp_path: Path,
) -> None:
    catalog = CatalogLocation("test", tmp_path / "catalog.db", tmp_path / "wh")
    keyed = new_table(tmp_path, "by_k__v1")  # columns k, n
    commit_delta(keyed, [data_file(keyed, [("a", 1), ("b", 2), ("a", 3)])], [])
    catalog.open().create_table(("default", "totals__v1"), Schema(NestedField(1, "n", LongType())))
    registry = LocalRegistry(tmp_path / "registry.db")
    for job, sources in (("by_k", ("rides",)), ("totals", ("rides", "other")),
                         ("fresh", ("rides",)), ("elsewhere", ("other",))):  # fmt: skip
        version(registry, job, sources)
    ran(registry, "by_k", "by_k__v1")
    ran(registry, "totals", "totals__v1")
    ran(registry, "elsewhere", "elsewhere__v1")
    ran(registry, "by_k", "by_k__v1_dropped")  # a table no longer in the catalog

    found = {d.job: d for d in derived_tables(registry, catalog, "rides", parse_where("k = 'a'"))}

    assert sorted(found) == ["by_k", "fresh", "totals"]
    assert (found["by_k"].table, found["by_k"].matching) == ("by_k__v1", 2)
    assert found["by_k"].note == "2 row(s) match the condition"
    assert found["totals"].matching is None and found["totals"].note.startswith("no column k:")
    assert (found["fresh"].table, found["fresh"].note) == ("-", NEVER_RUN)
    assert found["totals"].replay == "replay totals v1 --from archive"
    none = derived_tables(registry, catalog, "rides", parse_where("k = 'zz'"))
    assert [d.note for d in none if d.job == "by_k"] == [
        "no row matches, but aggregates over the events (counts, sums) may include them"
    ]
