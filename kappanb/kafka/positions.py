"""Where the log is, for a run being watched: heads, the group's offsets, newest event time.

One client per call, which never joins the group (it only fetches the group's committed
offsets and reads the last record of each partition by assignment), so a running job's
consumer group is not disturbed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kappanb.exceptions import TopicError
from kappanb.kafka.connection import KafkaConnection
from kappanb.kafka.records import parse_timestamp

Offsets = dict[str, dict[int, int]]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LogPositions:
    heads: Offsets
    """Per topic and partition: the next offset to be written."""
    committed: Offsets = field(default_factory=dict)
    """Per topic and partition: the group's committed offset (left out if never committed)."""
    partition_event_ms: Offsets = field(default_factory=dict)
    """Per topic and non-empty partition: the event time of its last record (epoch ms)."""

    @property
    def head_event_ms(self) -> dict[str, int]:
        """Per topic: the newest event time among the partitions' last records (epoch ms)."""
        return {t: max(ps.values()) for t, ps in self.partition_event_ms.items() if ps}


def event_time_ms(value: Any) -> int | None:
    """An event time as JSON carries it (ISO text, or epoch ms) in epoch milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        moment = parse_timestamp(value)  # the forms kappa-json reads; no offset means UTC
        return None if moment is None else _epoch_ms(moment)
    return None


def _epoch_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def log_positions(
    connection: KafkaConnection, group: str, names: list[str],
    event_time: Mapping[str, str] | None = None, timeout: float = 10.0,
) -> LogPositions:  # fmt: skip
    """Heads and ``group``'s committed offsets of ``names``; with ``event_time`` (topic →
    JSON field), also the newest event time at the head of each of those topics."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer(connection.client_config({"group.id": group, "enable.auto.commit": False}))
    try:
        heads: Offsets = {}
        partitions: list[TopicPartition] = []
        for name in names:
            topic = consumer.list_topics(name, timeout=timeout).topics.get(name)
            if topic is None or topic.error is not None:
                raise TopicError(f"topic {name!r} does not exist on {connection.bootstrap_servers}")
            heads[name] = {}
            for p in sorted(topic.partitions):
                partition = TopicPartition(name, p)
                _low, high = consumer.get_watermark_offsets(partition, timeout=timeout)
                heads[name][p] = int(high)
                partitions.append(partition)
        committed: Offsets = {}
        try:
            fetched = consumer.committed(partitions, timeout=timeout) if partitions else []
        except KafkaException:  # e.g. no group coordinator yet on a new broker: none known
            fetched = []
        for tp in fetched:
            if tp.offset >= 0:
                committed.setdefault(tp.topic, {})[tp.partition] = int(tp.offset)
        newest = _last_event_times(consumer, heads, event_time or {})
        return LogPositions(heads, committed, newest)
    finally:
        consumer.close()


def _last_event_times(consumer: Any, heads: Offsets, fields: Mapping[str, str]) -> Offsets:
    """Read the last record of every non-empty partition: its event time, per partition."""
    from confluent_kafka import TopicPartition

    last = [
        TopicPartition(topic, p, high - 1)
        for topic, ends in heads.items() if topic in fields
        for p, high in ends.items() if high > 0
    ]  # fmt: skip
    if not last:
        return {}
    consumer.assign(last)
    wanted = {(tp.topic, tp.partition) for tp in last}
    newest: Offsets = {}
    deadline = time.monotonic() + 2.0
    while wanted and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=len(last), timeout=0.5):
            if message.error() is not None:
                continue
            wanted.discard((message.topic(), message.partition()))
            moment = _event_time_of(message.value(), fields[message.topic()])
            if moment is not None:
                newest.setdefault(message.topic(), {})[message.partition()] = moment
    return newest


def _event_time_of(value: bytes | None, name: str) -> int | None:
    try:
        record = json.loads(value or b"")
    except ValueError:
        return None
    return event_time_ms(record.get(name)) if isinstance(record, dict) else None
