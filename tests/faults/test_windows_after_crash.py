"""An hourly window job replayed over a topic whose partitions end far apart, with the
TaskManager killed while the log is partly read (issue 18, point 1); a live run of the same
SQL, from offset 0, runs beside it and is killed with it.

Partition 0 holds a few events spread over the whole range: it is read to its end early,
and after the restore its split emits no record, hence no watermark. Partition 1 is empty,
and partition 2 ends half the range behind the others, so every shape a partition can
have is restored at once. Before kappanb's
sources fell quiet partitions out of the watermark, no window fired after the restore and
the table kept the windows of before the kill. Now `wait()` returns True only once every
window the data closes is committed, and a read right after it equals the oracle exactly.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import polars as pl
import pytest

from kappanb.flink.rest import FlinkRest
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.faults.reading import Reader
from tests.faults.recovery import kill_while_reading, record, wait_failed_over
from tests.oracles import (
    HOURLY_SQL,
    TRIPS_SCHEMA,
    closed_hourly_windows,
    produce_to_partitions,
    trips,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]

TOPIC = "faults.windows.trips"
JOB = "hourly_trips"
LIVE_JOB = "hourly_trips_live"
START = datetime(2026, 3, 1)
HOURS = 600
PER_PARTITION = 100_000
DELAY_S = 30


def windows(out: pl.DataFrame) -> dict[datetime, tuple[int, int]]:
    return {r["window_start"]: (r["trips"], r["fares"]) for r in out.iter_rows(named=True)}


def test_a_windowed_replay_killed_mid_log_commits_every_closed_window(
    fault_stack: EmbeddedStack, fault_wb: Workbench
) -> None:
    wb = fault_wb
    wb.topic(TOPIC, TRIPS_SCHEMA, partitions=6, table="crash_trips", event_time="event_time",
             watermark=f"{DELAY_S} s")  # fmt: skip
    # Every shape at once: 0 exhausted early, 1 empty, 2 far behind (its newest event half
    # the range behind the others'), 3-5 read to the end.
    parts = {0: trips(0, 40, START, HOURS, seed=1), 1: []}
    parts |= {2: trips(2, PER_PARTITION // 2, START, HOURS / 2, seed=1)}
    parts |= {p: trips(p, PER_PARTITION, START, HOURS, seed=1) for p in (3, 4, 5)}
    total = produce_to_partitions(fault_stack.endpoints().bootstrap_servers, TOPIC, parts)
    events: list[dict[str, Any]] = [e for es in parts.values() for e in es]
    expected = closed_hourly_windows(events, DELAY_S)
    wb.job(JOB, HOURLY_SQL.format(table="crash_trips"))
    wb.job(LIVE_JOB, HOURLY_SQL.format(table="crash_trips"))
    rest = FlinkRest(fault_stack.endpoints().flink_rest_url)
    missed: list[str] = []
    for _attempt in range(4):  # a replay that read everything before its moment: again
        live = wb.run(LIVE_JOB, restart=True)  # a live run from offset 0, killed beside it
        handle = wb.replay(JOB, restart=True)
        killed = kill_while_reading(fault_stack, Reader.of(wb, handle, TOPIC), total, 0.4)
        if not isinstance(killed, str):
            break
        missed.append(killed)
    assert not isinstance(killed, str), f"four replays missed their moment: {missed}"
    began = time.monotonic()
    fault_stack.up()  # a new TaskManager
    logs = fault_stack.layout.flink_log_dir("flink-jobmanager")
    assert wait_failed_over(rest, handle.run.flink_job_id, killed.restarts, logs=logs) is not None
    assert handle.wait(300), f"not caught up: {handle.hold or handle.run_state}"
    got = windows(wb.read(JOB, 1).collect())
    seconds = time.monotonic() - began
    assert len(got) == len(expected), f"{len(got)} of {len(expected)} windows after the restore"
    assert got == expected  # window starts are naive UTC, as the oracle's
    assert live.wait(300), f"live run not caught up: {live.hold or live.run_state}"
    assert live.run_state == "RUNNING" and rest.restarts(live.run.flink_job_id) >= 1
    assert windows(wb.read(LIVE_JOB, 1).collect()) == expected, "the live run's windows"
    record("TaskManager kill -9, windowed replay", "1/1", seconds,
           f"killed {killed}; {len(got)} windows exact")  # fmt: skip
