"""The statement set of a run: the same SQL for a live run and a replay, DLQ INSERT last."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kappanb.core.positions import ReadRange, read_range
from kappanb.core.schema import Column, parse_columns
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import JobVersion, TopicSpec
from kappanb.registry.store import LocalRegistry
from kappanb.runs.runs import RunLauncher, RunPlan
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.catalog import CatalogLocation
from kappanb.versions.archive_source import Handoff

TOPIC = TopicSpec(
    "orders.v1", "orders", parse_columns("id STRING, amount BIGINT, ts TIMESTAMP(3)"), "ts"
)
VERSION = JobVersion(
    job="totals", version=2, kind="sql", text="SELECT id, SUM(amount) AS s FROM orders GROUP BY id",
    digest="0" * 64, created_at="", output=(Column("id", "STRING"), Column("s", "BIGINT")),
    key=("id",), updating=True, sources=("orders.v1",),
)  # fmt: skip


def launcher(tmp_path: Path) -> RunLauncher:
    endpoints = Endpoints(
        KafkaConnection.plain("127.0.0.1:1"), "http://127.0.0.1:1",
        CatalogLocation("kappanb", tmp_path / "catalog.db", tmp_path / "warehouse"),
        tmp_path / "lib",
    )  # fmt: skip
    registry = LocalRegistry(tmp_path / "registry.sqlite")
    return RunLauncher(endpoints, registry, tmp_path / "chk", tmp_path / "sp", "10 s")


def plan(mode: str, rng: ReadRange, topic: TopicSpec = TOPIC, run_id: int = 7) -> RunPlan:
    return RunPlan(VERSION, [topic], mode, rng, "totals__v2", f"g-{mode}", 1, run_id)


def test_live_and_replay_differ_only_in_position_group_and_run(tmp_path: Path) -> None:
    live = launcher(tmp_path).statements(plan("live", ReadRange(), run_id=7), True)
    replay = launcher(tmp_path).statements(plan("replay", ReadRange(), run_id=7), True)
    assert [s.replace("g-replay", "g-live").replace("'replay'", "'live'") for s in replay] == live
    later = launcher(tmp_path).statements(plan("replay", read_range("0:5", None), run_id=8), True)
    assert len(later) == len(live)


def test_statement_set_reads_the_view_and_routes_malformed_events_last(tmp_path: Path) -> None:
    statements = launcher(tmp_path).statements(plan("live", ReadRange()), True)
    log, view, sink, insert, dlq_sink, dlq_insert = statements
    assert log.startswith("CREATE TEMPORARY TABLE `_kappanb_log_orders`")
    assert view.startswith("CREATE TEMPORARY VIEW `orders` AS")
    assert sink.startswith("CREATE TABLE `kappanb`.")
    assert insert.startswith("INSERT INTO `kappanb`.") and "FROM orders" in insert
    assert dlq_sink.startswith("CREATE TEMPORARY TABLE `_kappanb_dlq_orders`")
    assert dlq_insert.startswith("INSERT INTO `_kappanb_dlq_orders`")
    assert "'totals', 2, CAST(7 AS BIGINT), 'live'" in dlq_insert


def test_fail_fast_topic_has_no_dead_letter_statements(tmp_path: Path) -> None:
    fail = replace(TOPIC, on_malformed="fail")
    statements = launcher(tmp_path).statements(plan("live", ReadRange(), fail), False)
    # The topic's table (beside its clock), the view of the topic's own records, the INSERT.
    assert len(statements) == 3
    assert statements[0].startswith("CREATE TEMPORARY TABLE `_kappanb_log_orders`")
    assert "'format' = 'kappa-json'" in statements[0]
    assert statements[1].startswith("CREATE TEMPORARY VIEW `orders`")
    assert not any("dlq" in s or "_kappanb_error" in s for s in statements)


def test_flink_job_names_carry_the_run_number() -> None:
    first, second = plan("replay", ReadRange(), run_id=4), plan("replay", ReadRange(), run_id=5)
    assert first.pipeline_name == "kappanb totals v2 replay run #4 -> totals__v2"
    assert first.pipeline_name != second.pipeline_name  # two runs of one version


def test_a_replay_from_the_archive_reads_the_union_and_routes_the_logs_malformed_events(
    tmp_path: Path,
) -> None:
    handoff = Handoff("orders.v1", 31, {0: 12})
    rng = read_range("archive", "latest")
    from_archive = replace(plan("replay", rng), handoffs={"orders.v1": handoff})
    history, log, tail, view, sink, insert, dlq_sink, dlq_insert = launcher(tmp_path).statements(
        from_archive, True
    )
    assert history.startswith("CREATE TEMPORARY TABLE `_kappanb_history_orders`")
    assert "'snapshot-id' = '31'" in history and "'catalog-name' = 'kappanb'" in history
    assert f"'uri' = 'jdbc:sqlite:{tmp_path / 'catalog.db'}'" in history  # the run's catalog
    assert "'scan.startup.specific-offsets' = 'partition:0,offset:12'" in log
    assert "'scan.bounded.mode' = 'latest-offset'" in log
    assert tail.startswith("CREATE TEMPORARY VIEW `_kappanb_tail_orders`")
    assert view.startswith("CREATE TEMPORARY VIEW `orders` AS") and "UNION ALL" in view
    assert sink.startswith("CREATE TABLE `kappanb`.") and "FROM orders" in insert
    assert "write-parallelism" in insert  # bounded: one writer, as any bounded replay
    assert dlq_sink.startswith("CREATE TEMPORARY TABLE `_kappanb_dlq_orders`")
    assert "FROM `_kappanb_log_orders`" in dlq_insert  # the log's malformed events only
