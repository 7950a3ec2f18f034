"""How far back a topic's log reaches now, and how fast it grows: per partition, the first
record still in the log (offset and Kafka timestamp), the head, and the records written
in a recent window.

One consumer that joins no group and commits nothing (it reads by assignment). Times are
the records' Kafka timestamps, the ones retention goes by.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from kappanb.exceptions import TopicError
from kappanb.kafka.connection import KafkaConnection


@dataclass(frozen=True)
class PartitionExtent:
    """One partition of the log as it is now."""

    partition: int
    earliest: int
    """The first offset still in the log (0 until retention deleted a segment)."""
    head: int
    """The offset the next record will get."""
    earliest_ms: int | None
    """The Kafka timestamp of the first record still in the log; None when it is empty."""
    recent: int = 0
    """Records written in the window `LogExtent.window_ms` before `LogExtent.at_ms`."""

    @property
    def from_zero(self) -> bool:
        """Whether the log still starts at offset 0: every record ever written is there."""
        return self.earliest == 0

    @property
    def records(self) -> int:
        return self.head - self.earliest


@dataclass(frozen=True)
class LogExtent:
    """A topic's partitions now, its ``retention.ms`` (-1: forever) and when it was asked."""

    topic: str
    partitions: tuple[PartitionExtent, ...]
    retention_ms: int
    at_ms: int
    window_ms: int

    @property
    def from_zero(self) -> bool:
        return all(p.from_zero for p in self.partitions)

    @property
    def growth_per_s(self) -> float:
        """Records written per second over the window (by their Kafka timestamps)."""
        return sum(p.recent for p in self.partitions) / (self.window_ms / 1000)


def log_extent(
    connection: KafkaConnection, topic: str, window_ms: int = 3_600_000, timeout: float = 10.0
) -> LogExtent:
    """The extent of ``topic`` now, with the records written in the last ``window_ms``."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(connection.client_config(
        {"group.id": "kappanb-log-extent", "enable.auto.commit": False}, log_level=3
    ))  # fmt: skip
    try:
        meta = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if meta is None or meta.error is not None:
            raise TopicError(
                f"topic {topic!r} does not exist on {connection.bootstrap_servers}: "
                "declare it again with `topic NAME --schema ...` to create it"
            )
        at_ms = int(time.time() * 1000)
        marks = {}
        for p in sorted(meta.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
            marks[p] = (int(low), int(high))
        since = [TopicPartition(topic, p, at_ms - window_ms) for p in marks]
        found = consumer.offsets_for_times(since, timeout=timeout) if marks else []
        recent = {tp.partition: marks[tp.partition][1] - tp.offset
                  for tp in found if tp.offset >= 0}  # fmt: skip
        firsts = _first_timestamps(consumer, topic, marks, timeout)
    finally:
        consumer.close()
    parts = tuple(
        PartitionExtent(p, low, high, firsts.get(p), recent.get(p, 0))
        for p, (low, high) in marks.items()
    )
    return LogExtent(topic, parts, _retention_ms(connection, topic, timeout), at_ms, window_ms)


def _first_timestamps(
    consumer: Any, topic: str, marks: dict[int, tuple[int, int]], timeout: float
) -> dict[int, int]:
    """Per non-empty partition, the Kafka timestamp of its first record still in the log."""
    from confluent_kafka import TopicPartition

    wanted = {p for p, (low, high) in marks.items() if high > low}
    if not wanted:
        return {}
    consumer.assign([TopicPartition(topic, p, marks[p][0]) for p in wanted])
    found: dict[int, int] = {}
    deadline = time.monotonic() + timeout
    while wanted - found.keys() and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=len(wanted), timeout=0.5):
            if message.error() is None and message.partition() not in found:
                found[message.partition()] = int(message.timestamp()[1])
                consumer.pause([TopicPartition(topic, message.partition())])
    return found


def _retention_ms(connection: KafkaConnection, topic: str, timeout: float) -> int:
    from kappanb.kafka.topics import describe_topic

    config = describe_topic(connection, topic, timeout=timeout).config
    try:
        return int(config.get("retention.ms", "-1"))
    except ValueError:
        return -1
