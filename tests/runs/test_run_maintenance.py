"""Which runs get a maintained output table: the sink's table properties and the sink-v2
job setting for unbounded runs, nothing for a bounded replay or with maintenance off, and
a resumed run follows its table, not the policy of the day."""

from __future__ import annotations

from pathlib import Path

from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField

from kappanb.core.positions import ReadRange, read_range
from kappanb.runs.runs import RunLauncher
from kappanb.tables.catalog import DEFAULT_NAMESPACE, init_catalog, open_catalog
from kappanb.tables.maintenance import REWRITE, V2_SINK, MaintenancePolicy
from tests.runs.test_run_statements import launcher, plan

BOUNDED = read_range("earliest", "latest")


def maintaining(tmp_path: Path, policy: MaintenancePolicy | None) -> RunLauncher:
    base = launcher(tmp_path)
    return RunLauncher(
        base.endpoints, base.registry, tmp_path / "chk", tmp_path / "sp", "10 s",
        maintenance=policy,
    )  # fmt: skip


def _sink(statements: list[str]) -> str:
    (sink,) = [s for s in statements if s.startswith("CREATE TABLE")]
    return sink


def test_unbounded_runs_create_their_table_with_the_policy(tmp_path: Path) -> None:
    runs = maintaining(tmp_path, MaintenancePolicy(rewrite_every_commits=3))
    for mode in ("live", "replay"):
        sink = _sink(runs.statements(plan(mode, ReadRange()), True))
        assert f"'{REWRITE}' = 'true'" in sink
        assert "'flink-maintenance.rewrite.schedule.commit-count' = '3'" in sink
        assert "'write.upsert.enabled' = 'true'" in sink
        assert runs.sink_config(plan(mode, ReadRange()), create=True) == {V2_SINK: "true"}


def test_bounded_replay_and_maintenance_off_keep_the_plain_sink(tmp_path: Path) -> None:
    on, off = maintaining(tmp_path, MaintenancePolicy()), maintaining(tmp_path, None)
    bounded = plan("replay", BOUNDED)
    assert bounded.rng.bounded
    assert "flink-maintenance" not in _sink(on.statements(bounded, True))
    assert on.sink_config(bounded, create=True) == {}
    assert "flink-maintenance" not in _sink(off.statements(plan("live", ReadRange()), True))
    assert off.sink_config(plan("live", ReadRange()), create=True) == {}
    assert "flink-maintenance" not in _sink(launcher(tmp_path).statements(
        plan("live", ReadRange()), True))  # fmt: skip


def test_a_resumed_run_writes_its_table_as_it_was_created(tmp_path: Path) -> None:
    on, off = maintaining(tmp_path, MaintenancePolicy()), maintaining(tmp_path, None)
    location = on.endpoints.catalog
    init_catalog(location)
    schema = Schema(NestedField(1, "n", LongType(), required=False))
    open_catalog(location).create_table(
        (DEFAULT_NAMESPACE, "totals__v2"), schema, properties=MaintenancePolicy().table_properties()
    )
    live = plan("live", ReadRange())
    assert off.sink_config(live, create=False) == {V2_SINK: "true"}  # turned off since
    open_catalog(location).drop_table((DEFAULT_NAMESPACE, "totals__v2"))
    open_catalog(location).create_table((DEFAULT_NAMESPACE, "totals__v2"), schema)
    assert on.sink_config(live, create=False) == {}  # created before maintenance existed
