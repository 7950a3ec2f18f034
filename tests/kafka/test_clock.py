"""A topic's clock: heartbeat records and their rate (no I/O)."""

from __future__ import annotations

import json

from kappanb.kafka.clock import clock_topic, event_time_text, heartbeat

COLUMNS = [
    ("trip_id", "STRING NOT NULL"), ("fare", "DECIMAL(10, 2) NOT NULL"), ("ok", "BOOLEAN NOT NULL"),
    ("note", "STRING"), ("event_time", "TIMESTAMP(3) NOT NULL"),
]  # fmt: skip


def test_a_heartbeat_is_a_valid_row_with_the_event_time_given() -> None:
    record = json.loads(heartbeat(COLUMNS, "event_time", 1_778_025_589_634))
    assert record == {
        "trip_id": "", "fare": 0, "ok": False, "note": None,
        "event_time": "2026-05-05 23:59:49.634",
    }  # fmt: skip
    assert event_time_text(1_778_025_589_634) == "2026-05-05 23:59:49.634"
    assert event_time_text(0) == "1970-01-01 00:00:00.000"


def test_every_topic_has_its_own_clock() -> None:
    assert clock_topic("rides.trips.v1") == "rides.trips.v1.kappanb-clock"
