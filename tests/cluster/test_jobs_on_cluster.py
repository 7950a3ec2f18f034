"""Jobs end to end on the local cluster through its profile, as on any existing cluster:
Kafka over SASL, a plain Flink session cluster that gets the connector, Iceberg and format
jars with each job, state on S3 in RocksDB, output tables in the Iceberg REST catalog.

Runs before test_local_cluster.py, whose last test takes the package's cluster down.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, date, datetime
from typing import Any

import pytest

from kappanb.cluster import flink_nodes
from kappanb.exceptions import RemovalRefusedError
from kappanb.generators import PaymentsGenerator
from kappanb.tables.catalog import (
    DEFAULT_NAMESPACE,
    drop_table,
    open_catalog,
    serving_table,
    table_exists,
)
from kappanb.tables.rest_catalog import table_files
from kappanb.tables.serving_view import serving_view_table
from kappanb.workbench import Workbench
from tests.oracles import daily_payments, eventually

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

JOB = "cluster_daily"
SQL = """
SELECT CAST(event_time AS DATE) AS `day`,
       COUNT(DISTINCT merchant_id) AS merchants,
       COUNT(*) AS payments,
       SUM(amount_cents) AS amount
FROM {table}
WHERE {condition}
GROUP BY CAST(event_time AS DATE)
"""


DAILY = 600
"""Events per day of event time: a few days, so that a diff in flight has final days."""


def _after(events: list[dict[str, Any]]) -> datetime:
    return datetime.fromisoformat(events[-1]["event_time"]).replace(tzinfo=UTC)


def table(wb: Workbench, version: int | None) -> dict[date, tuple[int, int, int]]:
    frame = wb.read(JOB, version).collect()
    assert frame.height == frame["day"].n_unique(), "more than one row per key"
    return {r["day"]: (r["merchants"], r["payments"], r["amount"]) for r in frame.to_dicts()}


def wait_equal(wb: Workbench, version: int, expected: dict[Any, Any]) -> None:
    got = eventually(lambda: table(wb, version), lambda t: t == expected, timeout=240)
    assert got == expected


@pytest.mark.timeout(1500)  # about 9 minutes on 2 busy cores; 7 jobs submitted with their jars
def test_the_story_runs_on_the_cluster_through_its_profile(workbench: Workbench) -> None:
    wb = workbench
    topic = "cluster.story.payments.v1"
    wb.topic(topic, "payments", event_time="event_time", watermark="30 s", partitions=2,
             table="payments")  # fmt: skip
    events = list(PaymentsGenerator(seed=21, out_of_order=0.05, events_per_day=DAILY).events(3_000))
    assert wb.produce(topic, events).delivered == 3_000

    wb.job(JOB, SQL.format(table="payments", condition="NOT captured"))  # v1: inverted flag
    live = wb.run(JOB)
    assert live.run.table == f"{JOB}__v1" and live.run.state == "RUNNING"
    wb.job(JOB, SQL.format(table="payments", condition="captured"))  # v2: fixed
    replay = wb.replay(JOB, 2)
    assert ".replay-" in replay.run.group_id and replay.run.table == f"{JOB}__v2"
    more = list(PaymentsGenerator(seed=22, events_per_day=DAILY, start=_after(events)).events(500))
    wb.produce(topic, more)  # arrives while both run: both must see it
    wait_equal(wb, 1, daily_payments(events + more, captured=False))
    wait_equal(wb, 2, daily_payments(events + more, captured=True))
    assert replay.wait(timeout=180) and replay.caught_up

    endpoints = wb.stack.endpoints()
    config = _flink(endpoints.flink_rest_url, f"/jobs/{replay.run.flink_job_id}/checkpoints/config")
    assert config["state_backend"] == "EmbeddedRocksDBStateBackend"
    assert config["checkpoint_storage"] == "FileSystemCheckpointStorage"

    # In flight: the last day is not final, the others are once both watermarks passed
    # them. An empty partition (3,000 unkeyed events can all go to one) holds a watermark
    # until the cluster's idle timeout, 30 s (docs/reliability.md): wait for it.
    diff = eventually(lambda: wb.diff(JOB, 1, 2), lambda d: d.changed.height >= 3, timeout=120)
    assert diff.changed.height >= 3
    old, new = daily_payments(events + more, False), daily_payments(events + more, True)
    for row in diff.changed.to_dicts():
        assert (row["payments_old"], row["payments_new"]) == (old[row["day"]][1],
                                                              new[row["day"]][1])  # fmt: skip

    assert wb.serving(JOB) == 1  # the first live run serves
    wb.promote(JOB, 2, reason="fix inverted flag")
    assert wb.serving(JOB) == 2 and serving_table(endpoints.catalog, JOB) == f"{JOB}__v2"
    assert serving_view_table(endpoints.catalog, JOB) == f"{JOB}__v2"  # the REST view too
    assert table(wb, None) == new  # readers get v2

    # State on S3: a savepoint and a retained checkpoint, each resumed from.
    stopped = wb.stop(JOB, 1, savepoint=True).run
    assert stopped.state == "STOPPED" and str(stopped.savepoint).startswith("s3://state/")
    late = list(PaymentsGenerator(seed=23, events_per_day=DAILY, start=_after(more)).events(400))
    wb.produce(topic, late)
    resumed = wb.resume(JOB, 1).run
    assert resumed.restored_from == stopped.savepoint and resumed.state == "RUNNING"
    wait_equal(wb, 1, daily_payments(events + more + late, captured=False))
    wait_equal(wb, 2, daily_payments(events + more + late, captured=True))
    cancelled = wb.stop(JOB, 2).run
    assert cancelled.savepoint is None
    last = list(PaymentsGenerator(seed=24, events_per_day=DAILY, start=_after(late)).events(300))
    wb.produce(topic, last)
    from_checkpoint = wb.resume(JOB, 2).run
    restored = str(from_checkpoint.restored_from)
    assert restored.startswith(f"s3://state/checkpoints/{cancelled.flink_job_id}/chk-")
    wait_equal(wb, 2, daily_payments(events + more + late + last, captured=True))

    assert wb.rollback(JOB, reason="v1 until v2 is reviewed").switch.to_version == 1
    assert serving_table(endpoints.catalog, JOB) == f"{JOB}__v1"
    assert serving_view_table(endpoints.catalog, JOB) == f"{JOB}__v1"
    everything_v1 = daily_payments(events + more + late + last, captured=False)
    wait_equal(wb, 1, everything_v1)
    assert table(wb, None) == everything_v1  # readers get v1 again
    # Back and forth once more: the view's versions for v2 and v1 exist, and are made
    # current again (this catalog refused an equal version added twice: notebook 04).
    wb.promote(JOB, 2, reason="reviewed", force=True)
    assert serving_view_table(endpoints.catalog, JOB) == f"{JOB}__v2"
    assert wb.rollback(JOB, reason="not yet").switch.to_version == 1
    assert serving_view_table(endpoints.catalog, JOB) == f"{JOB}__v1"
    v2 = open_catalog(endpoints.catalog).load_table((DEFAULT_NAMESPACE, f"{JOB}__v2"))
    assert table_files(v2.io, v2.location())  # Flink wrote its files to the bucket
    with pytest.raises(RemovalRefusedError, match="v2 is the rollback target"):
        wb.retire(JOB, 2, drop=True)  # `rollback` would return to it
    retired = wb.retire(JOB, 2)  # v2 runs: it stops with a savepoint on S3
    assert not retired.dropped and retired.stopped
    assert all(where.startswith("s3://state/savepoints/") for _, where in retired.stopped)
    drop_table(endpoints.catalog, f"{JOB}__v2")  # what `retire --drop` does once allowed
    assert not table_exists(endpoints.catalog, f"{JOB}__v2")
    assert table_files(v2.io, v2.location()) == []  # purged: no file left behind
    kinds = [s.kind for s in wb.history(JOB).switches]
    assert kinds == ["first live run", "promote", "rollback", "promote", "rollback"]


def _flink(rest_url: str, path: str) -> Any:
    with urllib.request.urlopen(f"{rest_url}{path}", timeout=10) as answer:
        return json.load(answer)


def test_a_replay_with_parallelism_2_runs_on_both_taskmanagers(workbench: Workbench) -> None:
    wb = workbench
    topic = "cluster.parallel.payments.v1"
    wb.topic(topic, "payments", event_time="event_time", watermark="30 s", partitions=2,
             table="parallel_payments")  # fmt: skip
    events = list(PaymentsGenerator(seed=31).events(2_000))
    wb.produce(topic, events)
    job = "cluster_parallel"
    wb.job(job, SQL.format(table="parallel_payments", condition="captured"))
    replay = wb.replay(job, 1, until="latest", parallelism=2)
    rest_url = wb.stack.endpoints().flink_rest_url
    flink_job = replay.run.flink_job_id

    def placed() -> set[str]:
        """The TaskManagers the job's subtasks were deployed to (all once RUNNING)."""
        found: set[str] = set()
        for vertex in _flink(rest_url, f"/jobs/{flink_job}")["vertices"]:
            details = _flink(rest_url, f"/jobs/{flink_job}/vertices/{vertex['id']}")
            found |= {str(s.get("taskmanager-id")) for s in details["subtasks"]}
        return found

    managers = {flink_nodes.resource_id(f"flink-taskmanager-{n}") for n in (1, 2)}
    where = eventually(placed, lambda ids: ids == managers, timeout=120)
    assert where == managers
    parallelism = {v["parallelism"] for v in _flink(rest_url, f"/jobs/{flink_job}")["vertices"]}
    assert max(parallelism) == 2  # Iceberg's committer runs alone, every other task twice
    assert replay.wait(timeout=240) and replay.finished
    got = {r["day"]: (r["merchants"], r["payments"], r["amount"])
           for r in wb.read(job, 1).collect().to_dicts()}  # fmt: skip
    assert got == daily_payments(events, captured=True)
