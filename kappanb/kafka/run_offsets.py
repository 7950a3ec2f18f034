"""Offsets that outlive a Flink job: where a run started reading, and what its group committed.

Both can be asked of Kafka at any time, before or after a restore, which makes them the
base of record counts that a restore does not reset (see `kappanb.runs.run_metrics`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kappanb.kafka.connection import KafkaConnection

Offsets = dict[str, dict[int, int]]
"""Per topic and partition: an offset."""


@dataclass(frozen=True)
class StartAt:
    """Where a run began, as Kafka can find it again: the log's start, given offsets (the
    other partitions from the log's start), or the first record at or after a time."""

    offsets: dict[int, int] = field(default_factory=dict)
    millis: int | None = None


def start_offsets(
    connection: KafkaConnection, topics: list[str], at: StartAt, timeout: float = 10.0
) -> Offsets:
    """Per topic and partition, the offset a run that began at ``at`` read first.

    A partition with no record at or after ``at.millis`` starts at its head now, as a run
    starting from that time would; unknown topics are left out."""
    from confluent_kafka import TopicPartition

    found: Offsets = {}
    with _consumer(connection) as consumer:
        for name in topics:
            marks = _topic_marks(consumer, name, timeout)
            if marks is None:
                continue
            found[name] = {p: at.offsets.get(p, low) for p, (low, _high) in marks.items()}
            if at.millis is not None:
                wanted = [TopicPartition(name, p, at.millis) for p in marks]
                for tp in consumer.offsets_for_times(wanted, timeout=timeout):
                    found[name][tp.partition] = (
                        tp.offset if tp.offset >= 0 else marks[tp.partition][1]
                    )
    return found


def head_offsets(connection: KafkaConnection, topics: list[str], timeout: float = 10.0) -> Offsets:
    """Per topic and partition, the offset the next record will get (the log's head);
    unknown topics are left out."""
    found: Offsets = {}
    with _consumer(connection) as consumer:
        for name in topics:
            marks = _topic_marks(consumer, name, timeout)
            if marks is not None:
                found[name] = {p: high for p, (_low, high) in marks.items()}
    return found


def log_marks(
    connection: KafkaConnection, topics: list[str], timeout: float = 10.0
) -> dict[str, dict[int, tuple[int, int]]]:
    """Per topic and partition, (the first offset the log still has, its head); unknown
    topics are left out."""
    found: dict[str, dict[int, tuple[int, int]]] = {}
    with _consumer(connection) as consumer:
        for name in topics:
            marks = _topic_marks(consumer, name, timeout)
            if marks is not None:
                found[name] = marks
    return found


def offsets_text(offsets: Offsets) -> str:
    """``{"t": {0: 5, 1: 7}}`` as ``t@0:5,1:7`` (topics joined by ``;``), for a record."""
    return ";".join(
        f"{topic}@" + ",".join(f"{p}:{o}" for p, o in sorted(parts.items()))
        for topic, parts in sorted(offsets.items())
    )


def offsets_of(text: str) -> Offsets:
    """The offsets `offsets_text` wrote ({} for an empty text)."""
    found: Offsets = {}
    for entry in filter(None, text.split(";")):
        topic, _, pairs = entry.rpartition("@")
        found[topic] = {int(p): int(o) for p, o in (pair.split(":") for pair in pairs.split(","))}
    return found


@contextmanager
def _consumer(connection: KafkaConnection) -> Iterator[Any]:
    """A consumer that only asks for offsets (it joins no group and commits nothing)."""
    from confluent_kafka import Consumer

    consumer = Consumer(connection.client_config(
        {"group.id": "kappanb-run-offsets", "enable.auto.commit": False}, log_level=3
    ))  # fmt: skip
    try:
        yield consumer
    finally:
        consumer.close()


def _topic_marks(consumer: Any, name: str, timeout: float) -> dict[int, tuple[int, int]] | None:
    """Per partition of topic ``name``, its (low, high) watermarks; None for an unknown topic."""
    from confluent_kafka import TopicPartition

    meta = consumer.list_topics(name, timeout=timeout).topics.get(name)
    if meta is None or meta.error is not None:
        return None
    return {p: _marks(consumer, TopicPartition(name, p), timeout) for p in meta.partitions}


def _marks(consumer: Any, partition: Any, timeout: float) -> tuple[int, int]:
    low, high = consumer.get_watermark_offsets(partition, timeout=timeout)
    return int(low), int(high)


def group_offsets(
    connection: KafkaConnection, group: str, topics: list[str], timeout: float = 10.0
) -> Offsets:
    """The group's committed offsets (Flink commits its positions on each checkpoint).

    Asked by an admin client, once a consumer with the group's id (it never joins the
    group) got an answer from the group's coordinator: librdkafka's admin
    ListConsumerGroupOffsets crashes the whole process (SIGSEGV in ``rd_kafka_cgrp_op``:
    an admin client has no group of its own) when the coordinator is not ready yet, as on
    a fresh broker whose first group this is. Not ready: `KafkaException`, no crash."""
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka.admin import AdminClient

    _coordinator_answers(connection, group, topics, timeout)
    admin = AdminClient(connection.client_config(log_level=3))
    request = [ConsumerGroupTopicPartitions(group)]
    futures = admin.list_consumer_group_offsets(request, request_timeout=timeout)
    answer = futures[group].result(timeout=timeout)
    found: Offsets = {}
    for tp in answer.topic_partitions or []:
        if tp.offset >= 0 and tp.error is None:
            found.setdefault(tp.topic, {})[tp.partition] = int(tp.offset)
    return found


def _coordinator_answers(
    connection: KafkaConnection, group: str, topics: list[str], timeout: float
) -> None:
    """Return once ``group``'s coordinator answered a consumer's offset fetch for
    ``topics``; raise `KafkaException` when it did not (yet)."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer(connection.client_config(
        {"group.id": group, "enable.auto.commit": False}, log_level=3
    ))  # fmt: skip
    try:
        partitions = []
        for name in topics:
            meta = consumer.list_topics(name, timeout=timeout).topics.get(name)
            if meta is not None and meta.error is None:
                partitions += [TopicPartition(name, p) for p in sorted(meta.partitions)]
        answer = consumer.committed(partitions, timeout=timeout) if partitions else []
    finally:
        consumer.close()
    errors = [tp.error for tp in answer if tp.error is not None]
    if errors:
        raise KafkaException(errors[0])
