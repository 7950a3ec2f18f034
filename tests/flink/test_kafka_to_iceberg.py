"""The issue's end-to-end check: Kafka -> Flink SQL -> Iceberg -> polars, against an oracle."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from kappanb.exceptions import FlinkSubmitError
from kappanb.flink.rest import FlinkRest
from kappanb.flink.sql import FlinkSqlClient
from kappanb.kafka.produce import produce_json
from kappanb.kafka.topics import create_topic
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.read import read_table

pytestmark = pytest.mark.integration

EVENTS = 100_000
TOPIC = "payments.captured.v1"


def payment_events(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(n):
        yield {
            "payment_id": f"p{i:07d}",
            "merchant_id": f"m{rng.randrange(50):03d}",
            "amount_cents": rng.randrange(100, 100_000),
            "captured": rng.random() < 0.9,
            "event_time": (start + timedelta(seconds=i * 3)).strftime("%Y-%m-%d %H:%M:%S"),
        }


def test_bounded_sql_job_writes_exactly_the_events_to_iceberg(endpoints: Endpoints) -> None:
    create_topic(endpoints.kafka, TOPIC, partitions=4)
    events = list(payment_events(EVENTS))
    produce_json(endpoints.kafka, TOPIC, events, key="merchant_id")

    # Oracle: plain Python over the produced events, nothing shared with the pipeline.
    expected_sum: dict[str, int] = defaultdict(int)
    expected_count: dict[str, int] = defaultdict(int)
    for e in events:
        expected_sum[e["merchant_id"]] += e["amount_cents"]
        expected_count[e["merchant_id"]] += 1

    sql = f"""
    CREATE TEMPORARY TABLE payments (
        payment_id STRING, merchant_id STRING, amount_cents BIGINT, captured BOOLEAN,
        event_time TIMESTAMP(3)
    ) WITH (
        'connector' = 'kafka', 'topic' = '{TOPIC}',
        'properties.bootstrap.servers' = '{endpoints.bootstrap_servers}',
        'properties.group.id' = 'it-copy-v1',
        'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',
        'format' = 'json', 'json.fail-on-missing-field' = 'true'
    );
    CREATE TABLE IF NOT EXISTS kappanb.`default`.payments_copy (
        payment_id STRING, merchant_id STRING, amount_cents BIGINT, captured BOOLEAN,
        event_time TIMESTAMP(3)
    );
    INSERT INTO kappanb.`default`.payments_copy SELECT * FROM payments;
    """
    job = FlinkSqlClient(endpoints).submit(
        sql, job_name="it-copy", config={"execution.checkpointing.interval": "2 s"}
    )
    assert len(job.job_id) == 32
    rest = FlinkRest(endpoints.flink_rest_url)
    state = rest.wait_for_state(job.job_id, timeout=300)
    assert state == "FINISHED", rest.root_exception(job.job_id)

    table = read_table(endpoints.catalog, "payments_copy")
    assert table.height == EVENTS
    assert table["payment_id"].n_unique() == EVENTS
    per_key = table.group_by("merchant_id").agg(
        pl.col("amount_cents").sum().alias("total"), pl.len().alias("n")
    )
    got_sum = dict(zip(per_key["merchant_id"], per_key["total"], strict=True))
    got_count = dict(zip(per_key["merchant_id"], per_key["n"], strict=True))
    assert got_sum == dict(expected_sum)
    assert got_count == dict(expected_count)


def test_wrong_sql_is_explained_and_submits_no_job(endpoints: Endpoints) -> None:
    rest = FlinkRest(endpoints.flink_rest_url)
    jobs_before = len(rest.jobs())
    sql = f"""
    CREATE TEMPORARY TABLE src (a STRING) WITH ('connector' = 'kafka', 'topic' = '{TOPIC}',
        'properties.bootstrap.servers' = '{endpoints.bootstrap_servers}', 'format' = 'json');
    CREATE TEMPORARY TABLE snk (a STRING) WITH ('connector' = 'blackhole');
    INSERT INTO snk SELECT no_such_column FROM src;
    """
    with pytest.raises(FlinkSubmitError) as err:
        FlinkSqlClient(endpoints).submit(sql, job_name="it-wrong")
    assert "no_such_column" in str(err.value)
    assert "Traceback" not in str(err.value)
    assert len(rest.jobs()) == jobs_before


def test_sql_without_insert_is_refused(endpoints: Endpoints) -> None:
    with pytest.raises(FlinkSubmitError, match="no INSERT INTO"):
        FlinkSqlClient(endpoints).submit("SELECT 1", job_name="nothing")
