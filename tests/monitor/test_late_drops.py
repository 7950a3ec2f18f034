"""Events older than the watermark when they arrive are dropped by a window that has fired
(docs/reliability.md, "The trade-off for late events"): the run's watch, handle and
`status` say how many, so output missing them does not pass for complete."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from kappanb.generators import PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from tests.magics.conftest import fresh_workbench

pytestmark = pytest.mark.integration

JOB = "late_hourly"
TOPIC = "late.payments.v1"


def test_late_events_a_window_dropped_are_counted_by_the_watch(
    idle_stack: EmbeddedStack,
) -> None:
    wb = fresh_workbench(idle_stack)
    wb.topic(TOPIC, "payments", event_time="event_time", watermark="10 s", table="late_pay")
    wb.job(JOB, "SELECT window_start, window_end, COUNT(*) AS payments FROM TABLE(TUMBLE("
                "TABLE late_pay, DESCRIPTOR(event_time), INTERVAL '1' HOUR)) "
                "GROUP BY window_start, window_end")  # fmt: skip
    start = datetime(2026, 3, 1, tzinfo=UTC)
    on_time = list(PaymentsGenerator(seed=41, start=start, events_per_day=2_400).events(300))
    wb.produce(TOPIC, on_time)
    live = wb.run(JOB)
    assert live.wait(timeout=180), live.run_state
    deadline = time.monotonic() + 60
    while live.late_dropped is None and time.monotonic() < deadline:  # Flink lists it late
        time.sleep(0.2)
    assert live.late_dropped == 0  # nothing late yet: the windows saw every event
    last_hour = datetime.fromisoformat(on_time[-1]["event_time"]).replace(tzinfo=UTC)
    assert last_hour - start > timedelta(hours=2)  # the first hour's window has fired
    late = [dict(e, payment_id=f"late-{i}", event_time=(start + timedelta(minutes=i)).strftime(
        "%Y-%m-%d %H:%M:%S.000")) for i, e in enumerate(on_time[:3])]  # fmt: skip
    wb.produce(TOPIC, late)  # hour 0 again, long after its window fired
    assert live.wait(timeout=180), live.run_state
    deadline = time.monotonic() + 60
    while not live.late_dropped and time.monotonic() < deadline:  # Flink's count, 0.5 s late
        time.sleep(0.2)
    assert live.late_dropped is not None and live.late_dropped >= 1
    watches = live.watch
    assert watches is not None and "late" in watches.headers()
    assert "late dropped" in watches.progress_line()
    assert "late records (not in the output" in str(wb.status(JOB))  # the CLI's twin says it
    [shown] = [v.run for j in wb.overview().jobs if j.name == JOB for v in j.versions]
    assert shown is not None and shown.late_dropped >= 1  # and the side panel
    first = wb.read(JOB, 1).collect().sort("window_start").row(0, named=True)
    expected = sum(1 for e in on_time if e["event_time"] < "2026-03-01 01")
    assert first["payments"] == expected  # the late three are not in it, as the count says
    wb.stop(JOB, 1)
