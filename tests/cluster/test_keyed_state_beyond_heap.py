"""A replay whose keyed state is larger than the heap of the TaskManager that holds it
finishes exactly: the state lives in RocksDB (managed, off-heap memory and local disk),
not on the JVM heap, which the local cluster keeps small on purpose (256 MB:
`flink_nodes.config`, `ClusterSizes`).

A distinct count over random 2 KiB strings: each distinct value is an entry of the
aggregate's distinct map in RocksDB, a little more than the string, so the state outgrows
the heap with 330 MB of events. Short keys would need many millions of events for the
same bytes, and Python's producer and Flink's JSON decoding pay per event.
Random bytes in base64 do not compress, neither in Kafka nor in RocksDB's files, so the
checkpoint's size is the state's real size.

The state is measured where Flink reports it: the aggregation's `state_size` (the full
state, not the incremental `checkpointed_size`) in the job's last completed checkpoint,
the one Flink takes after the bounded source has read everything and before the job
finishes (its Iceberg sink commits on it), against `Status.JVM.Memory.Heap.Max` of the
TaskManager the aggregation ran on. Seen: 328 MB of state on a 268 MB heap.

With the heap state backend (`hashmap`) the same state would be Java objects on that
256 MB heap, larger than their serialized bytes: the TaskManager would fail with an
`OutOfMemoryError` (not run here).

Runs before test_local_cluster.py, whose last test takes the package's cluster down.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from kappanb.workbench import Workbench

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

TOPIC = "cluster.big.values.v1"
JOB = "cluster_distinct_values"
SHARDS = 4
EVENTS = 160_000
"""Every eighth event repeats a recent value: 140,000 distinct values, 287 MB of strings
(the heap is 256 MiB, 268 MB)."""
VALUE_BYTES = 1536
"""Random bytes per value: 2,048 characters of base64."""
SQL = """SELECT shard, COUNT(DISTINCT v) AS distinct_values, COUNT(*) AS events
FROM big_values
GROUP BY shard"""


class BigValues:
    """The events, made as they are sent (none is kept), and the oracle: per shard, the
    digests of its distinct values and its number of events."""

    def __init__(self, seed: int, count: int) -> None:
        self.seed, self.count = seed, count
        self.digests: dict[int, set[bytes]] = defaultdict(set)
        self.events: dict[int, int] = defaultdict(int)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rng = random.Random(self.seed)
        recent: list[str] = []
        for i in range(self.count):
            if i % 8 == 7:  # a value of the last few events, in this shard or another
                value = recent[rng.randrange(len(recent))]
            else:
                value = base64.b64encode(rng.randbytes(VALUE_BYTES)).decode()
                recent = [*recent[-15:], value]
            shard = i % SHARDS
            self.digests[shard].add(hashlib.blake2b(value.encode(), digest_size=16).digest())
            self.events[shard] += 1
            yield {"shard": shard, "v": value}

    def expected(self) -> dict[int, tuple[int, int]]:
        return {s: (len(self.digests[s]), self.events[s]) for s in self.events}


def _flink(rest_url: str, path: str) -> Any:
    with urllib.request.urlopen(f"{rest_url}{path}", timeout=10) as answer:
        return json.load(answer)


@pytest.mark.timeout(600)
def test_a_replay_whose_state_outgrows_the_heap_finishes_exactly(
    default_interval_workbench: Workbench,
) -> None:
    wb = default_interval_workbench
    wb.topic(TOPIC, "shard INT, v STRING", partitions=2, table="big_values")
    values = BigValues(seed=41, count=EVENTS)
    assert wb.produce(TOPIC, iter(values)).delivered == EVENTS
    wb.job(JOB, SQL)
    replay = wb.replay(JOB, 1, until="latest")
    assert replay.wait(timeout=400) and replay.finished
    rows = wb.read(JOB, 1).collect().to_dicts()
    assert {r["shard"]: (r["distinct_values"], r["events"]) for r in rows} == values.expected()

    rest_url, job_id = wb.stack.endpoints().flink_rest_url, replay.run.flink_job_id
    job = _flink(rest_url, f"/jobs/{job_id}")
    assert job["state"] == "FINISHED"
    aggregation = next(v["id"] for v in job["vertices"] if "GroupAggregate" in v["name"])
    subtasks = _flink(rest_url, f"/jobs/{job_id}/vertices/{aggregation}")["subtasks"]
    assert len(subtasks) == 1
    manager = subtasks[0]["taskmanager-id"]
    metric = _flink(rest_url, f"/taskmanagers/{manager}/metrics?get=Status.JVM.Memory.Heap.Max")
    heap_max = int(float(metric[0]["value"]))

    # The last checkpoint: taken once every event was read (the job waits for it to end).
    last = _flink(rest_url, f"/jobs/{job_id}/checkpoints")["latest"]["completed"]
    details = _flink(rest_url, f"/jobs/{job_id}/checkpoints/details/{last['id']}")
    state = details["tasks"][aggregation]["state_size"]
    print(f"\naggregation state {state:,} bytes in checkpoint {last['id']}, heap max "
          f"{heap_max:,} bytes on {manager}")  # fmt: skip
    assert last["state_size"] >= state > heap_max, (
        f"the aggregation's state in checkpoint {last['id']} is {state:,} bytes; the heap of "
        f"{manager}, which ran it, is {heap_max:,} bytes"
    )
