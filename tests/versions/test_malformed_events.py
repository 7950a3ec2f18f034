"""Malformed events on the real stack: routed to the dead-letter topic, counted per run,
the same for a live run and a replay of a new version (issue 8)."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from confluent_kafka import Message, Producer

from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.kafka.dead_letters import read_records
from kappanb.monitor.watch_set import WatchSet
from kappanb.stack.embedded import EmbeddedStack
from tests.magics.conftest import fresh_workbench
from tests.oracles import eventually

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.slow]

TOPIC, TABLE, JOB = "faults.payments.v1", "faults_payments", "faults_merchants"
SCHEMA = PAYMENTS_SCHEMA.replace("payment_id STRING", "payment_id STRING NOT NULL")
BY_MERCHANT = (
    f"SELECT merchant_id, COUNT(*) AS n, SUM(amount_cents) AS total FROM {TABLE} "
    "GROUP BY merchant_id"
)
BY_DAY = (  # event-time windows: error rows (NULL event time) must not disturb the watermark
    "SELECT window_start, COUNT(*) AS n, SUM(amount_cents) AS total FROM TABLE("
    f"TUMBLE(TABLE {TABLE}, DESCRIPTOR(event_time), INTERVAL '1' DAY)) "
    "GROUP BY window_start, window_end"
)


def _bad_events(good: dict[str, Any]) -> dict[str, bytes]:
    """One event of each kind of malformed, keyed by what its reason must say."""
    missing = {k: v for k, v in good.items() if k != "amount_cents"}
    return {
        "not JSON": b"this is not JSON {",
        "missing field 'amount_cents'": json.dumps(missing).encode(),
        "wrong type: field 'amount_cents' is \"lots\", not a BIGINT": json.dumps(
            {**good, "amount_cents": "lots"}
        ).encode(),
        "field 'payment_id' is missing or null": json.dumps({**good, "payment_id": None}).encode(),
        "not JSON: Invalid UTF-8": b'{"payment_id": "\xff\xfe"}',
    }


def _produce(bootstrap: str, good: list[dict[str, Any]], bad: dict[str, bytes]) -> dict[str, Any]:
    """Good events with the bad ones in between, over 2 partitions; where each bad one went."""
    producer = Producer({"bootstrap.servers": bootstrap, "log_level": 3, "linger.ms": 5})
    where: dict[str, Any] = {}

    def remember(reason: str) -> Callable[[Any, Message], None]:
        return lambda _err, msg: where.__setitem__(reason, (msg.partition(), msg.offset()))

    slots = {i * len(good) // (len(bad) + 1): r for i, r in enumerate(bad, start=1)}
    for i, event in enumerate(good):
        if i in slots:
            reason = slots[i]
            producer.produce(TOPIC, bad[reason], partition=i % 2, on_delivery=remember(reason))
        producer.produce(TOPIC, json.dumps(event).encode(), partition=i % 2)
    assert producer.flush(30) == 0
    return where


def _by_merchant(events: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    n, total = Counter[str](), Counter[str]()
    for e in events:
        n[e["merchant_id"]] += 1
        total[e["merchant_id"]] += e["amount_cents"]
    return {m: (n[m], total[m]) for m in n}


def _by_day(events: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    n, total = Counter[str](), Counter[str]()
    for e in events:
        day = datetime.fromisoformat(e["event_time"]).date().isoformat()
        n[day] += 1
        total[day] += e["amount_cents"]
    return {d: (n[d], total[d]) for d in n}


def _malformed_cell(watch: WatchSet) -> object:
    return dict(zip(WatchSet._HEADERS, watch.status_rows()[0], strict=True))["malformed"]


def test_live_run_and_replay_route_each_malformed_event_once_with_its_reason(
    idle_stack: EmbeddedStack,
) -> None:
    workbench = fresh_workbench(idle_stack)
    workbench.topic(TOPIC, SCHEMA, event_time="event_time", watermark="1 s", partitions=2,
                    table=TABLE)  # fmt: skip
    good = list(PaymentsGenerator(seed=8).events(3_000))
    bad = _bad_events(good[0])
    where = _produce(idle_stack.endpoints().bootstrap_servers, good, bad)

    workbench.job(JOB, BY_MERCHANT)
    live = workbench.run(JOB)
    workbench.job(JOB, BY_DAY)
    replay = workbench.replay(JOB, until="latest")

    rest = FlinkRest(idle_stack.endpoints().flink_rest_url)
    assert rest.wait_for_state(replay.run.flink_job_id, timeout=120) == "FINISHED"
    days = workbench.read(JOB, 2).collect()
    got_days = {
        str(w.date()): (n, t)
        for w, n, t in zip(days["window_start"], days["n"], days["total"], strict=True)
    }
    assert got_days == _by_day(good)

    def merchants() -> dict[str, tuple[int, int]]:
        frame = workbench.read(JOB, 1).collect()
        return {m: (n, t) for m, n, t in zip(*frame.get_columns(), strict=True)}

    assert eventually(merchants, lambda got: got == _by_merchant(good), 90) == _by_merchant(good)
    assert eventually(lambda: _malformed_cell(live.watch), lambda c: c == "5", 30) == "5"

    dlq = read_records(idle_stack.endpoints().kafka, f"{TOPIC}.dlq")
    for run in (live.run, replay.run):
        mine = [r for r in dlq if r["run_id"] == run.id]
        assert len(mine) == len(bad)  # each bad event once per run
        assert {(r["job"], r["version"], r["mode"]) for r in mine} == {(JOB, run.version, run.mode)}
        for reason, (partition, offset) in where.items():
            (record,) = [r for r in mine if (r["partition"], r["offset"]) == (partition, offset)]
            assert record["topic"] == TOPIC
            assert reason in record["reason"], (reason, record)
            payload = (
                base64.b64decode(record["payload"])
                if record["payload_encoding"] == "base64"
                else record["payload"].encode()
            )
            assert payload == bad[reason]

    status = str(workbench.status(JOB))
    assert status.count(f"5 → {TOPIC}.dlq") == 2, status
