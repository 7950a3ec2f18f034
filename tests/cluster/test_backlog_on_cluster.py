"""A live run that starts on a backlog, on 3 brokers and 4 partitions (notebook 02's shape),
counts every event into its hourly windows and drops none as late.

Flink judges a partition idle by time alone, from when its split is assigned: the
partitions of the broker that answered the run's new consumer first set the watermark,
and the others' records came late when their broker answered after the idle timeout
(about a quarter of each hour counted; docs/reliability.md, "Reading a backlog on several
brokers"). On this cluster, idle timeouts of 0.2 to 2 s lost 1,255 to 18,820 of 28,911
events whenever the consumer took longer than the timeout to get its offsets (1.0 to 4.4 s
after the splits were assigned), and none when it took less. This guards kappanb's default
(`IDLE_TIMEOUT`) and what the run counts: the 5 s before it lost
events only on a loaded machine (a quarter of each hour, 3.9 s to the offsets, then the
brokers' first answers).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from kappanb.generators import PaymentsGenerator
from kappanb.kafka.positions import event_time_ms
from kappanb.workbench import Workbench
from tests.oracles import eventually

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

EVENTS = 30_000
"""About 1,250 events per hour of event time over a day: 6,000 of them in each partition
after the first hour, several 1 MiB fetches' worth."""
HOUR_MS = 3_600_000


def _hours(events: list[dict[str, Any]]) -> Counter[int]:
    """Events per hour (epoch ms of its start) of event time: the oracle."""
    found: Counter[int] = Counter()
    for event in events:
        at = event_time_ms(event["event_time"])
        assert at is not None
        found[at - at % HOUR_MS] += 1
    return found


def test_a_run_started_on_a_backlog_counts_every_hour(
    workbench: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAPPANB_WATERMARK_IDLE_TIMEOUT", raising=False)
    wb = workbench
    assert wb.settings.watermark_idle_timeout is None  # kappanb's default, 30 s
    wb.topic("backlog.payments.v1", "payments", event_time="event_time", watermark="30 s",
             partitions=4, key="payment_id", table="backlog_payments")  # fmt: skip
    generator = PaymentsGenerator(seed=3, out_of_order=0.2, start=datetime(2026, 3, 1, tzinfo=UTC))
    events = list(generator.events(EVENTS))
    assert wb.produce("backlog.payments.v1", events).delivered == EVENTS
    wb.job("backlog_hourly", """SELECT window_start, COUNT(*) AS payments
FROM TABLE(TUMBLE(TABLE backlog_payments, DESCRIPTOR(event_time), INTERVAL '1' HOUR))
GROUP BY window_start, window_end""")  # fmt: skip
    live = wb.run("backlog_hourly")
    assert live.wait(240), "the live run did not catch up"
    expected = _hours(events)
    # Every hour but the last is closed by the data (the watermark is 30 s behind the newest).
    closed = sorted(expected)[:-1]

    def counted() -> dict[int, int]:
        rows = wb.sql("SELECT window_start, payments FROM backlog_hourly").to_dicts()
        return {event_time_ms(r["window_start"].isoformat()) or 0: r["payments"] for r in rows}

    found = eventually(counted, lambda rows: len(rows) >= len(closed), timeout=60)
    assert {h: found.get(h) for h in closed} == {h: expected[h] for h in closed}
    assert live.late_dropped == 0
