"""A burst of payments into a topic of the stack in KAPPANB_HOME, faster than a job reads.

Usage: python tests/browser/burst.py TOPIC COUNT (kappanb importable, KAPPANB_HOME set)

notebook.spec.mjs starts it early: it makes the events (a day after notebook 01's own, so
they are not late), prints "ready", and on a line "go" on stdin sends them all at once, then
prints "sent N in S s". A caught-up live run then falls behind the head and reads "catching
up" until it is back: the moment every view of the run must agree on.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime

from kappanb.generators import PaymentsGenerator
from kappanb.settings import StackSettings
from kappanb.workbench import Workbench


def main() -> None:
    topic, count = sys.argv[1], int(sys.argv[2])
    start = datetime(2026, 3, 9, tzinfo=UTC)
    events = PaymentsGenerator(seed=21, start=start).events(count)
    records = [(str(e["payment_id"]).encode(), json.dumps(e, default=str).encode()) for e in events]
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    from confluent_kafka import Producer

    settings = StackSettings.from_env(os.environ)
    wb = Workbench(settings, auto_up=False)
    config = {
        "linger.ms": 50, "batch.num.messages": 10_000, "queue.buffering.max.messages": 1_000_000,
    }  # fmt: skip
    producer = Producer(wb.endpoints().kafka.client_config(config, log_level=3))
    began = time.monotonic()
    for key, value in records:
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.05)
    left = producer.flush(60)
    print(f"sent {count - left} in {time.monotonic() - began:.1f} s", flush=True)
    if left:
        sys.exit(f"{left} events not acknowledged in 60 s")


if __name__ == "__main__":
    main()
