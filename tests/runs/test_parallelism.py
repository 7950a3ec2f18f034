"""`--parallelism`: tasks spread over task slots, kept for resume, bounded by the slots."""

from __future__ import annotations

import json
from dataclasses import replace

import polars as pl
import pytest
from confluent_kafka import Producer

from kappanb.exceptions import RunConflictError
from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import table_exists
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench

pytestmark = pytest.mark.integration

SKEWED_EVENTS = 400_020
SQL = "SELECT payment_id, amount_cents FROM parallel_payments WHERE amount_cents >= 5000"


def test_a_replay_runs_with_the_parallelism_asked_and_refuses_more_than_the_slots(
    stack: EmbeddedStack,
) -> None:
    wb = fresh_workbench(stack)
    wb.topic("parallel.payments.v1", PAYMENTS_SCHEMA, partitions=4, table="parallel_payments",
             event_time="event_time")  # fmt: skip
    events = list(PaymentsGenerator(seed=5).events(5_000))
    wb.produce("parallel.payments.v1", events)
    wb.job("wide_payments", SQL)

    slots = int(FlinkRest(stack.endpoints().flink_rest_url).overview()["slots-total"])
    with pytest.raises(RunConflictError, match=f"cluster has {slots}: use at most {slots}"):
        wb.replay("wide_payments", until="latest", parallelism=slots + 1, watch=False)
    assert wb.runs("wide_payments") == []  # refused before anything was created
    assert not table_exists(stack.endpoints().catalog, "wide_payments__v1")

    handle = wb.replay("wide_payments", until="latest", parallelism=2)
    try:
        assert handle.run.parallelism == 2
        job = FlinkRest(stack.endpoints().flink_rest_url).job(handle.run.flink_job_id)
        assert {v["parallelism"] for v in job["vertices"]} >= {2}
        assert handle.wait(timeout=120) and handle.finished
        assert wb.runs("wide_payments")[-1].parallelism == 2  # kept for `resume`
        expected = sorted(e["payment_id"] for e in events if e["amount_cents"] >= 5000)
        out = wb.read("wide_payments", 1).collect()
        assert sorted(out["payment_id"].to_list()) == expected
        assert out.schema["amount_cents"] == pl.Int64
    finally:
        if not handle.finished:
            wb.stop("wide_payments", 1)


def test_a_bounded_replay_in_parallel_keeps_the_rows_of_a_source_task_that_ended_first(
    stack: EmbeddedStack,
) -> None:
    """Iceberg's committer keeps a writer's end-of-input files under one key; a checkpoint
    taken after one writer ended put them there, and the other writer's end replaced them
    (a whole task's rows lost, seen in the replay benchmark at parallelism 2). Here one
    partition holds 20 events and the other many, and checkpoints come every second, so
    the first task ends long before the second."""
    wb = Workbench(replace(stack.settings, checkpoint_interval="1 s"), auto_up=False)
    topic = "skewed.payments.v1"
    wb.topic(topic, PAYMENTS_SCHEMA, partitions=2, table="skewed_payments",
             event_time="event_time")  # fmt: skip
    producer = Producer({"bootstrap.servers": stack.endpoints().bootstrap_servers,
                         "linger.ms": 50, "compression.type": "lz4"})  # fmt: skip
    ids = []
    for i, event in enumerate(PaymentsGenerator(seed=12).events(SKEWED_EVENTS)):
        producer.produce(topic, json.dumps(event).encode(), partition=0 if i < 20 else 1)
        ids.append(event["payment_id"])
        if i % 50_000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0
    wb.job("skewed_copy", "SELECT payment_id FROM skewed_payments")

    handle = wb.replay("skewed_copy", until="latest", parallelism=2, watch=False)
    rest = FlinkRest(stack.endpoints().flink_rest_url)
    assert rest.wait_for_state(handle.run.flink_job_id, timeout=180) == "FINISHED"
    checkpoints = rest.checkpoints(handle.run.flink_job_id)["counts"]["completed"]
    out = wb.read("skewed_copy", 1).collect()["payment_id"]
    assert out.len() == len(ids), f"{out.len()} rows of {len(ids)}; {checkpoints} checkpoints"
    assert sorted(out.to_list()) == sorted(ids)
