"""`--parallelism`: tasks spread over task slots, kept for resume, bounded by the slots."""

from __future__ import annotations

import polars as pl
import pytest

from kappanb.exceptions import RunConflictError
from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import table_exists
from tests.magics.conftest import fresh_workbench

pytestmark = pytest.mark.integration

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
