"""`kill -9` of the TaskManager during a replay from the archive (issue 23, point 3): after
a checkpoint, while the log's tail is partly read (and, as it happens, the archive side
still read or already finished: said in the outcome). Flink restarts the job from its
latest checkpoint once `up` has started a new TaskManager, and the output holds every
event once: none lost at the handoff, none read twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import polars as pl
import pytest
from confluent_kafka import Producer

from kappanb.flink.rest import FlinkRest
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import committed_rows
from kappanb.workbench import Workbench
from tests.faults.reading import Reader
from tests.faults.recovery import act_while_reading, kill, record, wait_failed_over
from tests.oracles import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]

TOPIC, TABLE, JOB = "faults.archived.ids", "faults_archived_ids", "faults_archive_ids"
PARTITIONS, HISTORY, TAIL = 2, 150_000, 300_000
"""Events in the archive and after it, in all: enough that the replay reads for a few
seconds with checkpoints twice a second."""


def produce(bootstrap: str, first: int, last: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for n in range(first, last):
        producer.produce(TOPIC, json.dumps({"id": n}).encode(), partition=n % PARTITIONS)
        if n % 10_000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0


def sources_running(rest: FlinkRest, job_id: str) -> str:
    """Which of the job's sources still ran at the kill (Flink's view just before it)."""
    vertices = rest.job(job_id).get("vertices", [])
    return ", ".join(
        f"{'archive' if 'history' in v['name'] else 'log'} {v['status']}"
        for v in vertices
        if str(v["name"]).startswith("Source:")
    )


def test_a_taskmanager_killed_during_a_replay_from_the_archive_loses_and_doubles_nothing(
    fault_stack: EmbeddedStack, fault_wb: Workbench
) -> None:
    wb = Workbench(replace(fault_wb.settings, checkpoint_interval="500 ms"), auto_up=False)
    bootstrap = fault_stack.endpoints().bootstrap_servers
    catalog = fault_stack.endpoints().catalog
    wb.topic(TOPIC, "id BIGINT", partitions=PARTITIONS, table=TABLE)
    produce(bootstrap, 0, HISTORY)
    table = wb.archive(TOPIC).run.table
    count = eventually(lambda: committed_rows(catalog, table), lambda n: n == HISTORY, 300)
    assert count == HISTORY, wb.status(TOPIC)
    wb.archive(TOPIC, stop=True)
    produce(bootstrap, HISTORY, HISTORY + TAIL)
    wb.job(JOB, f"SELECT id FROM {TABLE}")
    rest = FlinkRest(fault_stack.endpoints().flink_rest_url)

    missed: list[str] = []
    for _attempt in range(4):  # a replay that missed its moment is run again, not counted
        handle = wb.replay(JOB, start="archive", until="latest", restart=True, watch=False)
        job_id, total = handle.run.flink_job_id, HISTORY + TAIL
        seen: list[str] = []

        def act(job_id: str = job_id, seen: list[str] = seen) -> None:
            seen.append(sources_running(rest, job_id))  # a killed TaskManager's view is gone
            kill(fault_stack, "flink-taskmanager")

        # Kafka's positions count from offset 0: a tenth of the tail read is past this.
        moment = (HISTORY + TAIL / 10) / total
        killed = act_while_reading(Reader.of(wb, handle, TOPIC), total, moment, act)
        if not isinstance(killed, str):
            break
        missed.append(killed)
        rest.wait_for_state(job_id, timeout=120)  # ended: the next --restart stops nothing
    assert not isinstance(killed, str), f"four replays missed their moment: {missed}"
    began = time.monotonic()
    fault_stack.up()  # a new TaskManager, as `%kappa up` starts it
    failed_over = wait_failed_over(rest, job_id, killed.restarts)
    assert rest.wait_for_state(job_id, timeout=240) == "FINISHED", rest.root_exception(job_id)
    seconds = time.monotonic() - began + (failed_over or 0)

    out = wb.read(JOB, 1).collect()
    assert out.height == HISTORY + TAIL, "an event was lost or read twice at the handoff"
    assert out["id"].n_unique() == out.height
    assert out.sort("id")["id"].equals(pl.Series("id", range(HISTORY + TAIL), dtype=pl.Int64))
    record("TaskManager kill -9 during a replay from the archive", "1/1", seconds,
           f"killed {killed} (sources: {seen[-1]}); output exact")  # fmt: skip
