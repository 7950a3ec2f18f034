"""Windows the data's own event time closes fire, whatever the shape of the partitions; and
a watermark a partition holds back is said, with the partition (issue 18, point 2).

Each case writes trips straight to chosen partitions (as a producer that picks partitions
does, or as `produce` without `--key` does with its long runs per partition), runs an hourly
window job live from offset 0 and, beside it, replays the same SQL as another job, and checks
that once each `wait()` returns True a read equals the oracle: every window ending at or
before the newest event minus the watermark delay.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest

from kappanb.exceptions import RunNotFoundError
from kappanb.runs.report import RunHandle
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.oracles import (
    HOURLY_SQL,
    TRIPS_SCHEMA,
    closed_hourly_windows,
    eventually,
    produce_to_partitions,
    trips,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START = datetime(2026, 5, 1)
HOURS = 120
DELAY_S = 30


@pytest.fixture
def wb(idle_stack: EmbeddedStack) -> Iterator[Workbench]:
    bench = Workbench(idle_stack.settings, auto_up=False)
    yield bench
    for run in bench.runs():
        if run.active:
            with contextlib.suppress(RunNotFoundError):  # it ended meanwhile (a bounded one)
                bench.stop(run.job, run.version)


def _shape(name: str) -> dict[int, list[dict[str, Any]]]:
    """Four partitions, shaped as the case says."""
    if name == "exhausted":  # a handful of events over the whole range, the rest elsewhere
        parts = {0: trips(0, 12, START, HOURS, seed=3)}
        return parts | {p: trips(p, 4000, START, HOURS, seed=3) for p in (1, 2, 3)}
    if name == "empty":
        return {p: trips(p, 4000, START, HOURS, seed=4) for p in (0, 1, 2)} | {3: []}
    if name == "far_behind":  # partition 3's newest event is 27 h behind the others'
        parts = {p: trips(p, 4000, START, HOURS, seed=5) for p in (0, 1, 2)}
        return parts | {3: trips(3, 4000, START, HOURS - 27, seed=5)}
    # "runs": each partition a contiguous stretch of time, as unkeyed `produce` writes
    every = sorted(trips(0, 12000, START, HOURS, seed=6), key=lambda e: e["event_time"])
    stretch = len(every) // 7
    parts = {p: [] for p in range(4)}
    for k in range(7):
        parts[k % 4].extend(every[k * stretch : (k + 1) * stretch])
    return parts


def _windows(out: pl.DataFrame) -> dict[datetime, tuple[int, int]]:
    return {r["window_start"]: (r["trips"], r["fares"]) for r in out.iter_rows(named=True)}


@pytest.mark.parametrize("shapes", [("exhausted", "empty"), ("far_behind", "runs")])
def test_every_window_the_data_closes_fires_whatever_the_partitions(
    wb: Workbench, stack: EmbeddedStack, shapes: tuple[str, str]
) -> None:
    """Two shapes at a time (a live run and a replay each: the stack's four task slots), so
    their quiet partitions' idle timeouts run out together."""
    expected: dict[str, dict[datetime, tuple[int, int]]] = {}
    handles: dict[str, tuple[str, RunHandle]] = {}
    for shape in shapes:
        topic, table, job = f"wm.{shape}.trips", f"wm_{shape}", f"hourly_{shape}"
        wb.topic(topic, TRIPS_SCHEMA, partitions=4, table=table, event_time="event_time",
                 watermark=f"{DELAY_S} s")  # fmt: skip
        parts = _shape(shape)
        produce_to_partitions(stack.endpoints().bootstrap_servers, topic, parts)
        expected[shape] = closed_hourly_windows([e for es in parts.values() for e in es], DELAY_S)
        # A live run, and beside it a replay (fresh group, its own table) of the same SQL.
        wb.job(job, HOURLY_SQL.format(table=table))
        wb.job(f"{job}_replayed", HOURLY_SQL.format(table=table))
        handles[job] = shape, wb.run(job)
        handles[f"{job}_replayed"] = shape, wb.replay(f"{job}_replayed", 1)
    for name, (shape, handle) in handles.items():
        said = f"{shape}, {handle.run.mode}"
        assert handle.wait(240), f"{said}: not caught up ({handle.hold or handle.run_state})"
        got, want = _windows(wb.read(name, 1).collect()), expected[shape]
        assert len(got) == len(want), f"{said}: {len(got)} of {len(want)} windows"
        assert got == want, said


def test_a_partition_that_holds_the_watermark_is_named_until_it_falls_quiet(
    wb: Workbench, stack: EmbeddedStack
) -> None:
    topic, table, job = "wm.held.trips", "wm_held", "hourly_held"
    bootstrap = stack.endpoints().bootstrap_servers
    wb.topic(topic, TRIPS_SCHEMA, partitions=4, table=table, event_time="event_time",
             watermark=f"{DELAY_S} s")  # fmt: skip
    parts = {p: trips(p, 3000, START, HOURS, seed=7) for p in (0, 1, 2)}
    produce_to_partitions(bootstrap, topic, parts)
    behind = START + timedelta(hours=HOURS - 27)
    trickle = Trickle(bootstrap, topic, partition=3, since=behind).start()
    try:
        wb.job(job, HOURLY_SQL.format(table=table))
        handle = wb.run(job)
        # Partition 3 keeps giving records 27 h behind the others: it holds the watermark.
        held = eventually(lambda: handle.hold, lambda h: "partition 3" in h, timeout=180)
        assert held.startswith(f"watermark held by partition 3 of {topic}: newest event 2")
        assert not handle.wait(3)  # read to the head, yet not caught up
        assert handle.watch is not None and held in str(handle.watch)  # the panel says so
        report = wb.status(job)  # and status, from a sample of its own
        (row,) = [r for r in report.rows if r.run.id == handle.run.id]
        assert row.held.startswith(f"watermark held by partition 3 of {topic}")
        assert f"{row.held} (not caught up)" in str(report)
    finally:
        trickle.stop()
    # Quiet now: partition 3 stops holding, every window the data closes fires.
    assert handle.wait(240), f"not caught up once partition 3 fell quiet: {handle.hold}"
    events = [e for es in parts.values() for e in es] + trickle.written
    assert _windows(wb.read(job, 1).collect()) == closed_hourly_windows(events, DELAY_S)


class Trickle:
    """Writes a trip a tenth of a second to one partition, each a second of event time after
    the one before from ``since``, between `start` and `stop`; ``written`` is what it wrote
    (complete once stopped)."""

    def __init__(self, bootstrap: str, topic: str, partition: int, since: datetime) -> None:
        from confluent_kafka import Producer

        self.topic, self.partition, self.since = topic, partition, since
        self.written: list[dict[str, Any]] = []
        self._producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="trickle", daemon=True)

    def start(self) -> Trickle:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)
        assert not self._thread.is_alive(), "the trickle did not stop"

    def _loop(self) -> None:
        while not self._stop.wait(0.1):
            at = self.since + timedelta(seconds=len(self.written))
            trip = {"trip_id": f"late-{len(self.written)}", "driver_id": "d1", "fare_cents": 500,
                    "event_time": at.isoformat(sep=" ", timespec="milliseconds")}  # fmt: skip
            self._producer.produce(self.topic, json.dumps(trip).encode(), partition=self.partition)
            self._producer.poll(0)
            self.written.append(trip)
        assert self._producer.flush(30) == 0


def test_a_replay_from_partition_offsets_reads_the_topic_without_its_clock(
    wb: Workbench, stack: EmbeddedStack
) -> None:
    """Flink's Kafka source takes start offsets for a single topic: such a replay reads the
    topic alone (no clock), and its view still works."""
    topic, table, job = "wm.offsets.trips", "wm_offsets", "count_offsets"
    wb.topic(topic, TRIPS_SCHEMA, partitions=2, table=table, event_time="event_time")
    parts = {p: trips(p, 100, START, 10, seed=9) for p in (0, 1)}
    produce_to_partitions(stack.endpoints().bootstrap_servers, topic, parts)
    wb.job(job, f"SELECT trip_id, fare_cents FROM {table}")
    handle = wb.replay(job, start="0:60,1:90", until="latest")
    assert handle.wait(240) and handle.finished, handle.run_state
    rows = sorted(wb.read(job, 1).collect().rows())
    later = parts[0][60:] + parts[1][90:]
    assert rows == sorted((e["trip_id"], e["fare_cents"]) for e in later)
