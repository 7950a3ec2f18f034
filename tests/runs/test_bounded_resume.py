"""A bounded replay stopped with a savepoint is not resumed from it (Flink's Kafka source,
restored, would read to its end and never finish: FLINK-31006): `resume` replays it again
from its start into its emptied table, and the output is exact."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from kappanb.exceptions import RunNotFoundError, SavepointError
from kappanb.flink.rest import FlinkRest
from kappanb.generators import PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from tests.magics.conftest import fresh_workbench

pytestmark = pytest.mark.integration

JOB = "bounded_again"
TOPIC = "bounded_again.pay.v1"
EVENTS = 600_000


def test_a_bounded_replay_stopped_midway_is_replayed_again_and_finishes_exactly(
    idle_stack: EmbeddedStack,
) -> None:
    wb = fresh_workbench(idle_stack)
    wb.topic(TOPIC, "payments", event_time="event_time", table="bounded_again_pay")
    # Enough for several seconds of reading on a quiet machine, where 150,000 could end
    # before the stop five times in a row.
    events = list(PaymentsGenerator(seed=31).events(EVENTS))
    wb.produce(TOPIC, events)
    wb.job(JOB, "SELECT merchant_id, COUNT(*) AS n FROM bounded_again_pay GROUP BY merchant_id")
    oracle = Counter(e["merchant_id"] for e in events)

    rest = FlinkRest(idle_stack.endpoints().flink_rest_url)
    stopped = None
    for _attempt in range(5):  # a replay that finished before the stop missed its moment
        first = wb.replay(JOB, 1, until="latest", watch=False, restart=True)
        tasks_running(rest, first.run.flink_job_id)  # a savepoint needs every task running
        try:
            stopped = wb.stop(JOB, 1, savepoint=True).run
        except SavepointError:  # declined: its source had read to the end and was closing
            continue
        except RunNotFoundError:  # it finished between its tasks running and the stop
            continue
        if stopped.state == "STOPPED":
            break
    assert stopped is not None and stopped.state == "STOPPED", "every replay ended first"
    assert stopped.savepoint and stopped.id == first.run.id

    again = wb.resume(JOB, 1)
    assert again.run.id != stopped.id and again.run.restored_from is None
    assert "again from its start" in again.message and "FLINK-31006" in again.message
    replaced = next(r for r in wb.runs(JOB) if r.id == stopped.id)
    assert replaced.state == "CANCELED" and f"run #{again.run.id}" in replaced.error
    assert again.wait(timeout=300) and again.finished, again.run_state
    rows = wb.read(JOB, 1).collect()
    assert dict(zip(rows["merchant_id"], rows["n"], strict=True)) == oracle


def tasks_running(rest: FlinkRest, job_id: str, seconds: float = 120.0) -> None:
    """Wait until every task of the job runs, or it has ended (the stop then says so)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = rest.job(job_id)
        if job.get("state") != "RUNNING":
            return
        if all(v.get("status") == "RUNNING" for v in job.get("vertices", [])):
            return
        time.sleep(0.05)
