"""Counting a large dead-letter topic on the real broker: exact per run, duplicates counted
once, each count reading only what was added since the last (issue 18, point 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from kappanb.kafka.dead_letters import BATCH, DeadLetterReader, Malformed, malformed_counts
from kappanb.stack.endpoints import Endpoints

pytestmark = [pytest.mark.integration]

DLQ = "counted.trips.v1.dlq"
SOURCE = "counted.trips.v1"


def dlq_record(run_id: int, partition: int, offset: int) -> bytes:
    """A record as Flink's JSON format writes kappanb's DLQ rows (compact, fields in order)."""
    return json.dumps({
        "reason": "not a TIMESTAMP(3): \"2026-01-05T05:37:08.809\"", "payload": "{\"x\": 1}",
        "payload_encoding": "utf-8", "topic": SOURCE, "partition": partition, "offset": offset,
        "job": "trips", "version": run_id, "run_id": run_id, "mode": "replay",
    }, separators=(",", ":")).encode()  # fmt: skip


def produce(bootstrap: str, values: list[bytes]) -> None:
    producer = Producer({
        "bootstrap.servers": bootstrap, "linger.ms": 20, "log_level": 3,
        "batch.num.messages": 10_000, "queue.buffering.max.messages": 500_000,
    })  # fmt: skip
    for i, value in enumerate(values):
        producer.produce(DLQ, value, partition=i % 3)
        if i % 100_000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0


def first_wave() -> tuple[list[bytes], dict[int, int]]:
    """Run 1: every event of 2 source partitions malformed (long runs of offsets), written
    once more from offset 40,000 on (a restart); run 2: every 3rd event of a third
    partition (sparse), some twice; and records that are not kappanb's."""
    run1 = [dlq_record(1, p, o) for o in range(90_000) for p in (0, 1)]
    run1 += [dlq_record(1, p, o) for o in range(40_000, 70_000) for p in (0, 1)]
    run2 = [dlq_record(2, 2, o) for o in range(0, 180_000, 3)]
    run2 += [dlq_record(2, 2, o) for o in range(0, 30_000, 3)]
    return run1 + run2 + [b"not kappanb's", b"{}"] * 50, {1: 180_000, 2: 60_000}


def test_a_dead_letter_topic_of_many_batches_is_counted_exactly_and_read_once(
    endpoints: Endpoints, tmp_path: Path
) -> None:
    bootstrap = endpoints.bootstrap_servers
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(DLQ, num_partitions=3)])[DLQ].result(timeout=30)
    values, truth = first_wave()
    assert len(values) > 30 * BATCH
    produce(bootstrap, values)

    # A read that cannot finish says so, and is a lower bound; the next goes on from it.
    hurried = DeadLetterReader(endpoints.kafka, DLQ, tmp_path).refresh(timeout=0.05)
    assert not hurried.complete and hurried.count(1) < truth[1]
    assert not hurried.malformed(1).exact

    counts = malformed_counts(endpoints.kafka, {1: [DLQ], 2: [DLQ], 3: [DLQ]}, 120.0, tmp_path)
    assert counts == {1: Malformed(truth[1]), 2: Malformed(truth[2]), 3: Malformed(0)}

    # More records, some of them positions already counted: a new reader (another process)
    # starts from the kept tally, reads only the new records, and counts them once.
    more = [dlq_record(1, 0, o) for o in range(85_000, 95_000)] + [dlq_record(2, 2, 1)]
    produce(bootstrap, more)
    reader = DeadLetterReader(endpoints.kafka, DLQ, tmp_path).refresh(timeout=120.0)
    assert reader.complete and reader.last_read == len(more)
    assert (reader.count(1), reader.count(2)) == (truth[1] + 5_000, truth[2] + 1)
    assert reader.refresh(timeout=120.0).last_read == 0

    # Without the kept tally, the whole topic is read again, to the same figures.
    fresh = DeadLetterReader(endpoints.kafka, DLQ).refresh(timeout=120.0)
    assert fresh.last_read == len(values) + len(more)
    assert (fresh.count(1), fresh.count(2)) == (truth[1] + 5_000, truth[2] + 1)
