"""Independent Python computations over produced events, and a polling helper for tests."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

T = TypeVar("T")


def daily_payments(
    events: Iterable[dict[str, Any]], captured: bool
) -> dict[date, tuple[int, int, int]]:
    """day -> (distinct merchants, payments, amount) of events whose `captured` is the flag."""
    merchants: dict[date, set[str]] = defaultdict(set)
    counts: dict[date, int] = defaultdict(int)
    amounts: dict[date, int] = defaultdict(int)
    for e in events:
        if e["captured"] is not captured:
            continue
        day = datetime.fromisoformat(e["event_time"]).date()
        merchants[day].add(e["merchant_id"])
        counts[day] += 1
        amounts[day] += e["amount_cents"]
    return {d: (len(merchants[d]), counts[d], amounts[d]) for d in merchants}


def eventually(probe: Callable[[], T], check: Callable[[T], bool], timeout: float) -> T:
    """Call ``probe`` until ``check`` accepts its value; return the last value either way."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not check(value) and time.monotonic() < deadline:
        time.sleep(2)
        value = probe()
    return value


HOURLY_SQL = (
    "SELECT window_start, window_end, COUNT(*) AS trips, SUM(fare_cents) AS fares "
    "FROM TABLE(TUMBLE(TABLE {table}, DESCRIPTOR(event_time), INTERVAL '1' HOUR)) "
    "GROUP BY window_start, window_end"
)
TRIPS_SCHEMA = "trip_id STRING, driver_id STRING, fare_cents BIGINT, event_time TIMESTAMP(3)"


def trips(partition: int, count: int, start: datetime, hours: float, seed: int) -> list[Any]:
    """``count`` trips of one partition, in event-time order, spread over ``hours`` from
    ``start`` (a partition is an ordered stream; partitions differ in where they end)."""
    import random
    from datetime import timedelta

    rng = random.Random(seed * 1009 + partition)
    times = sorted(rng.uniform(0, hours * 3600) for _ in range(count))
    return [
        {
            "trip_id": f"p{partition}-{i}",
            "driver_id": f"d{rng.randrange(500)}",
            "fare_cents": rng.randrange(300, 9000),
            "event_time": (start + timedelta(seconds=s)).isoformat(
                sep=" ", timespec="milliseconds"
            ),
        }
        for i, s in enumerate(times)
    ]


def closed_hourly_windows(
    events: Iterable[dict[str, Any]], delay_s: float
) -> dict[datetime, tuple[int, int]]:
    """window start -> (trips, fares) of every hourly window the data's own event time closes:
    those ending at or before the newest event time minus the watermark delay."""
    from datetime import timedelta

    rows = [(datetime.fromisoformat(e["event_time"]), e["fare_cents"]) for e in events]
    closing = max(t for t, _ in rows) - timedelta(seconds=delay_s)
    counts: dict[datetime, tuple[int, int]] = {}
    for t, fare in rows:
        start = t.replace(minute=0, second=0, microsecond=0)
        if start + timedelta(hours=1) <= closing + timedelta(milliseconds=1):
            n, total = counts.get(start, (0, 0))
            counts[start] = (n + 1, total + fare)
    return counts


def produce_to_partitions(bootstrap: str, topic: str, parts: dict[int, list[Any]]) -> int:
    """Write each partition's events to that partition (as a producer that picks partitions
    itself would), in order; how many were written."""
    import json

    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    written = 0
    for partition, events in parts.items():
        for event in events:
            producer.produce(topic, json.dumps(event).encode(), partition=partition)
            written += 1
            if written % 20_000 == 0:
                producer.poll(0)
    assert producer.flush(60) == 0, "some events were not acknowledged"
    return written
