"""Merge-on-read against Flink's upsert sink: an updating query reads back as one row per key.

One Flink job (a statement set) reads a topic that is produced in three batches while it runs,
with a checkpoint every second, so keys written in one Iceberg commit are updated in later
ones: the upsert tables get equality deletes that apply across sequence numbers. The source is
bounded at offsets known in advance (each event goes to a chosen partition), so the job
finishes by itself once the last batch is in.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest

from kappanb.flink.rest import FlinkRest
from kappanb.flink.sql import FlinkSqlClient
from kappanb.kafka.topics import create_topic, end_offsets
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.catalog import open_catalog
from kappanb.tables.merge_read import (
    DATA,
    EQUALITY_DELETES,
    merge,
    plan_files,
    read_files,
    read_snapshot,
)
from kappanb.tables.read import read_table

pytestmark = pytest.mark.integration

TOPIC = "mr.updates.v1"
KEYS = 30
BATCHES = 3
PER_BATCH = 7_000
START = datetime(2026, 3, 1)


def batch_events(batch: int, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed + batch)
    first = batch * PER_BATCH
    return [
        {
            "k": f"k{rng.randrange(KEYS):02d}",
            "g": rng.choice("ab"),
            "v": rng.randrange(-1_000, 10_000),
            "ts": (START + timedelta(seconds=first + i)).strftime("%Y-%m-%d %H:%M:%S"),
        }
        for i in range(PER_BATCH)
    ]


def partition_of(event: dict[str, Any]) -> int:
    return int(event["k"][1:]) % 2


def produce_to_partitions(bootstrap: str, topic: str, events: list[dict[str, Any]]) -> None:
    """Like produce_json, but each event goes to partition_of(event), so end offsets are known."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    errors: list[Any] = []

    def on_delivery(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(err)

    for event in events:
        value = json.dumps(event).encode()
        while True:
            try:
                producer.produce(
                    topic, value, partition=partition_of(event), on_delivery=on_delivery
                )
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(60) == 0
    assert not errors, errors[:3]


def snapshot_count(endpoints: Endpoints, name: str) -> int:
    return len(open_catalog(endpoints.catalog).load_table(("default", name)).snapshots())


def wait_for_new_snapshot(endpoints: Endpoints, name: str, seen: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (count := snapshot_count(endpoints, name)) > seen:
            return count
        time.sleep(0.3)
    raise AssertionError(f"no new snapshot of {name} after {timeout} s (had {seen})")


def job_sql(endpoints: Endpoints, stops: dict[int, int]) -> str:
    offsets = ";".join(f"partition:{p},offset:{o}" for p, o in sorted(stops.items()))
    upsert = "WITH ('format-version' = '2', 'write.upsert.enabled' = 'true')"
    return f"""
    CREATE TEMPORARY TABLE mr_src (k STRING, g STRING, v BIGINT, ts TIMESTAMP(3)) WITH (
        'connector' = 'kafka', 'topic' = '{TOPIC}',
        'properties.bootstrap.servers' = '{endpoints.bootstrap_servers}',
        'properties.group.id' = 'it-merge-read-v1',
        'scan.startup.mode' = 'earliest-offset',
        'scan.bounded.mode' = 'specific-offsets', 'scan.bounded.specific-offsets' = '{offsets}',
        'format' = 'json', 'json.fail-on-missing-field' = 'true'
    );
    CREATE TABLE IF NOT EXISTS kappanb.`default`.mr_by_key (
        k STRING, n BIGINT, total BIGINT, vmax BIGINT, last_ts TIMESTAMP(3),
        PRIMARY KEY (k) NOT ENFORCED
    ) {upsert};
    CREATE TABLE IF NOT EXISTS kappanb.`default`.mr_by_pair (
        k STRING, g STRING, n BIGINT, total BIGINT, PRIMARY KEY (k, g) NOT ENFORCED
    ) {upsert};
    CREATE TABLE IF NOT EXISTS kappanb.`default`.mr_appends (
        k STRING, g STRING, v BIGINT, ts TIMESTAMP(3)
    );
    CREATE TABLE IF NOT EXISTS kappanb.`default`.mr_empty (
        k STRING, n BIGINT, PRIMARY KEY (k) NOT ENFORCED
    ) {upsert};
    INSERT INTO kappanb.`default`.mr_by_key
        SELECT k, COUNT(*), SUM(v), MAX(v), MAX(ts) FROM mr_src GROUP BY k;
    INSERT INTO kappanb.`default`.mr_by_pair
        SELECT k, g, COUNT(*), SUM(v) FROM mr_src GROUP BY k, g;
    INSERT INTO kappanb.`default`.mr_appends SELECT k, g, v, ts FROM mr_src;
    """


@pytest.fixture(scope="module")
def produced(endpoints: Endpoints) -> list[dict[str, Any]]:
    """Run the job while three batches arrive, each committed before the next is produced."""
    batches = [batch_events(b) for b in range(BATCHES)]
    events = [e for batch in batches for e in batch]
    stops = Counter(partition_of(e) for e in events)
    create_topic(endpoints.kafka, TOPIC, partitions=2)
    job = FlinkSqlClient(endpoints).submit(
        job_sql(endpoints, dict(stops)),
        job_name="it-merge-read",
        config={"execution.checkpointing.interval": "1 s"},
    )
    rest = FlinkRest(endpoints.flink_rest_url)
    seen = 0
    for batch in batches:
        produce_to_partitions(endpoints.bootstrap_servers, TOPIC, batch)
        seen = wait_for_new_snapshot(endpoints, "mr_by_key", seen, timeout=120)
    assert end_offsets(endpoints.kafka, TOPIC) == dict(stops)
    state = rest.wait_for_state(job.job_id, timeout=300)
    assert state == "FINISHED", rest.root_exception(job.job_id)
    return events


def test_updating_query_reads_back_one_current_row_per_key(
    endpoints: Endpoints, produced: list[dict[str, Any]]
) -> None:
    expected: dict[str, dict[str, Any]] = {}
    for e in produced:
        row = expected.setdefault(e["k"], {"n": 0, "total": 0, "vmax": e["v"], "last_ts": e["ts"]})
        row["n"] += 1
        row["total"] += e["v"]
        row["vmax"] = max(row["vmax"], e["v"])
        row["last_ts"] = max(row["last_ts"], e["ts"])

    got = read_table(endpoints.catalog, "mr_by_key")
    assert got.columns == ["k", "n", "total", "vmax", "last_ts"]
    assert got.schema["last_ts"] == pl.Datetime("us")
    assert got.height == KEYS == got["k"].n_unique()
    as_dicts = {
        r["k"]: {
            "n": r["n"],
            "total": r["total"],
            "vmax": r["vmax"],
            "last_ts": r["last_ts"].strftime("%Y-%m-%d %H:%M:%S"),
        }
        for r in got.iter_rows(named=True)
    }
    assert as_dicts == expected


def test_the_snapshot_needed_equality_deletes_across_commits(
    endpoints: Endpoints, produced: list[dict[str, Any]]
) -> None:
    """Proves the delete path ran: without the equality deletes the keys are duplicated."""
    table = open_catalog(endpoints.catalog).load_table(("default", "mr_by_key"))
    snapshot = table.current_snapshot()
    assert snapshot is not None
    refs = plan_files(table, snapshot)
    data_seqs = [r.sequence_number for r in refs if r.content == DATA]
    eq_seqs = [r.sequence_number for r in refs if r.content == EQUALITY_DELETES]
    assert eq_seqs, "no equality-delete files: the test did not exercise the delete path"
    assert max(eq_seqs) > min(data_seqs), "no equality delete applies to an older data file"
    assert len(table.snapshots()) >= BATCHES

    full = read_snapshot(table)
    # The same files with the equality deletes left out: stale rows of updated keys come back.
    data, deletes = read_files(table, snapshot)
    kept = [(ref, rows) for ref, rows in deletes if ref.content != EQUALITY_DELETES]
    without_eq = merge(data, kept, full.schema)
    assert without_eq.num_rows > full.num_rows == KEYS


def test_every_snapshot_in_history_has_one_row_per_key(
    endpoints: Endpoints, produced: list[dict[str, Any]]
) -> None:
    table = open_catalog(endpoints.catalog).load_table(("default", "mr_by_key"))
    counts = []
    for snapshot in table.snapshots():
        rows = read_snapshot(table, snapshot.snapshot_id)
        keys = rows.column("k").to_pylist()
        assert len(keys) == len(set(keys)), f"duplicate keys in snapshot {snapshot.snapshot_id}"
        counts.append(sum(rows.column("n").to_pylist()))
    assert counts == sorted(counts)  # the per-key counts only grow, commit after commit
    assert counts[-1] == len(produced)
    with pytest.raises(ValueError, match="no snapshot 1234"):
        read_snapshot(table, 1234)


def test_composite_key_reads_back_one_row_per_pair(
    endpoints: Endpoints, produced: list[dict[str, Any]]
) -> None:
    n: dict[tuple[str, str], int] = defaultdict(int)
    total: dict[tuple[str, str], int] = defaultdict(int)
    for e in produced:
        n[e["k"], e["g"]] += 1
        total[e["k"], e["g"]] += e["v"]

    got = read_table(endpoints.catalog, "mr_by_pair")
    assert got.height == len(n)
    assert {(r[0], r[1]): (r[2], r[3]) for r in got.iter_rows()} == {
        key: (n[key], total[key]) for key in n
    }


def test_append_only_table_reads_back_every_event(
    endpoints: Endpoints, produced: list[dict[str, Any]]
) -> None:
    table = open_catalog(endpoints.catalog).load_table(("default", "mr_appends"))
    snapshot = table.current_snapshot()
    assert snapshot is not None
    assert all(r.content == DATA for r in plan_files(table, snapshot))

    got = read_table(endpoints.catalog, "mr_appends")
    assert got.columns == ["k", "g", "v", "ts"]
    rows = Counter((k, g, v, ts.strftime("%Y-%m-%d %H:%M:%S")) for k, g, v, ts in got.iter_rows())
    assert rows == Counter((e["k"], e["g"], e["v"], e["ts"]) for e in produced)


def test_table_without_snapshot_reads_as_no_rows_with_its_columns(
    endpoints: Endpoints, produced: list[dict[str, Any]]
) -> None:
    got = read_table(endpoints.catalog, "mr_empty")
    assert got.height == 0
    assert got.schema == pl.Schema({"k": pl.String, "n": pl.Int64})
