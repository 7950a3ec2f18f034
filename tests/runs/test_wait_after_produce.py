"""`wait()` after `produce` on a live run that caught up long before: a read right after it
shows every record produced before the call, also while a feed goes on producing.

Before, the caught-up verdict was kept once given, so `wait()` returned at once and the
read missed the new records (notebook 02 on a cluster); re-arming it on each produce let
a continuous feed starve it. Now each call fixes its own target (`LogWaiter`).
"""

from __future__ import annotations

import threading

import pytest

from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPIC, TABLE, JOB = "waits.payments.v1", "wait_payments", "wait_counts"
SQL = f"SELECT merchant_id, COUNT(*) AS payments FROM {TABLE} GROUP BY merchant_id"


def test_each_wait_covers_what_was_produced_before_it_even_under_a_feed(
    stack: EmbeddedStack,
) -> None:
    wb = fresh_workbench(stack)
    wb.topic(TOPIC, PAYMENTS_SCHEMA, partitions=2, table=TABLE, event_time="event_time")
    wb.job(JOB, SQL)
    stream = PaymentsGenerator(seed=71).events(10**7)
    wb.produce(TOPIC, [next(stream) for _ in range(5_000)])
    live = wb.run(JOB)
    produced = 5_000
    try:
        assert live.wait(timeout=180), live.run_state
        assert _payments(wb) == produced
        for part in (20_000, 1):  # many, then a single record: both must be waited for
            wb.produce(TOPIC, [next(stream) for _ in range(part)])
            produced += part
            assert live.wait(timeout=180), live.run_state
            assert _payments(wb) == produced  # not a record less, right after the wait
        fed, stop = [0], threading.Event()

        def feed() -> None:  # the head keeps moving: the wait's target must not
            while not stop.is_set():
                wb.produce(TOPIC, [next(stream) for _ in range(200)])
                fed[0] += 200
                stop.wait(0.2)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            stop.wait(2)
            before = produced + fed[0]
            assert live.wait(timeout=180), "a continuous feed kept wait() from returning"
            assert _payments(wb) >= before
        finally:
            stop.set()
            feeder.join(10)
    finally:
        wb.stop(JOB, 1)


def _payments(wb: Workbench) -> int:
    return int(wb.read(JOB, 1).collect()["payments"].sum())
