"""A bounded windowed replay suspended by `down` mid-log and resumed by `up` finishes.

Flink's Kafka source restored from a savepoint reads to its stopping offsets and then
never finishes (FLINK-31006): the job stayed RUNNING with nothing behind, and the windows
only the end of the input closes were never emitted. kappanb's watch of the replay now
drains it once it stays at its recorded end (`kappanb.monitor.bounded_end`): `wait()`
returns True, the run is FINISHED, and every window, the last ones too, equals the oracle.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from kappanb.flink.rest import FlinkRest
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.faults.recovery import act_while_reading, record
from tests.oracles import HOURLY_SQL, TRIPS_SCHEMA, produce_to_partitions, trips

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]

TOPIC = "faults.bounded.trips"
JOB = "hourly_bounded"
START = datetime(2026, 3, 1)
PER_PARTITION = 100_000


def all_hourly_windows(events: list[dict[str, Any]]) -> dict[datetime, tuple[int, int]]:
    """window start -> (trips, fares) of every hourly window: the end of a bounded input
    closes them all."""
    counts: dict[datetime, tuple[int, int]] = {}
    for e in events:
        start = datetime.fromisoformat(e["event_time"]).replace(minute=0, second=0,
                                                                microsecond=0)  # fmt: skip
        n, total = counts.get(start, (0, 0))
        counts[start] = (n + 1, total + e["fare_cents"])
    return counts


def test_a_bounded_replay_resumed_after_down_and_up_finishes_with_every_window(
    fault_stack: EmbeddedStack, fault_wb: Workbench
) -> None:
    wb = fault_wb
    wb.topic(TOPIC, TRIPS_SCHEMA, partitions=2, table="bounded_trips", event_time="event_time",
             watermark="30 s")  # fmt: skip
    parts = {p: trips(p, PER_PARTITION, START, 300, seed=11) for p in (0, 1)}
    total = produce_to_partitions(fault_stack.endpoints().bootstrap_servers, TOPIC, parts)
    events = [e for es in parts.values() for e in es]
    expected = all_hourly_windows(events)
    wb.job(JOB, HOURLY_SQL.format(table="bounded_trips"))
    rest = FlinkRest(fault_stack.endpoints().flink_rest_url)
    missed: list[str] = []
    for _attempt in range(4):  # a replay that read everything before its moment: again
        handle = wb.replay(JOB, until="latest", restart=True, watch=False)
        suspended = act_while_reading(rest, handle.run.flink_job_id, total, 0.3, wb.down)
        if not isinstance(suspended, str):
            break
        missed.append(suspended)
    assert not isinstance(suspended, str), f"four replays missed their moment: {missed}"
    assert wb.runs(JOB)[-1].state == "SUSPENDED"
    began = time.monotonic()
    up = wb.up()
    assert any(line.startswith(f"resumed {JOB} v1") for line in up.runs), up.runs
    resumed = wb.watch(JOB)
    assert resumed.wait(300), resumed.progress_line()
    run = wb.runs(JOB)[-1]
    state = rest.job_state(run.flink_job_id)
    assert state == "FINISHED", f"run #{run.id}'s job is {state}, not FINISHED"
    # It ended through the drain: its savepoint is where the watch asked for it.
    end = fault_stack.layout.flink_savepoints / f"{JOB}-v1-run{run.id}-end"
    assert list(end.glob("savepoint-*")), (
        f"no drain savepoint in {end}: the resumed replay finished by itself (is FLINK-31006 "
        "fixed in this Flink? then kappanb.monitor.bounded_end can go)"
    )
    got = {
        r["window_start"]: (r["trips"], r["fares"])
        for r in wb.read(JOB, 1).collect().iter_rows(named=True)
    }
    assert len(got) == len(expected), f"{len(got)} of {len(expected)} windows"
    assert got == expected  # the last windows too, which only the end of the input closes
    record(
        "`down` then `up` mid bounded replay",
        "1/1",
        time.monotonic() - began,
        f"suspended {suspended}; resumed, drained at its end, {len(got)} windows exact",
    )
