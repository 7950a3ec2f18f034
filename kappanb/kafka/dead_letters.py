"""Reading a dead-letter topic: its records, and the malformed events each run found.

A run writes its DLQ records at least once: after a restart from a checkpoint the same
event may be written again. A count is therefore of distinct (topic, partition, offset)
per run id, never of records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

EventAt = tuple[str, int, int]
"""Where a malformed event is in its source topic: (topic, partition, offset)."""


def parse(value: bytes | None) -> dict[str, Any] | None:
    """One DLQ record as a dict, or None when it is not one of kappanb's."""
    try:
        record = json.loads(value or b"")
    except ValueError:
        return None
    if not isinstance(record, dict) or not {"run_id", "partition", "offset"} <= record.keys():
        return None
    return record


def distinct_by_run(records: Iterable[Mapping[str, Any]]) -> dict[int, set[EventAt]]:
    """Per run id, the distinct source positions of its malformed events."""
    found: dict[int, set[EventAt]] = {}
    for r in records:
        at = (str(r.get("topic")), int(r["partition"]), int(r["offset"]))
        found.setdefault(int(r["run_id"]), set()).add(at)
    return found


class DeadLetterReader:
    """Reads one dead-letter topic, each call only what was added since the last one."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.records: list[dict[str, Any]] = []
        self._next: dict[int, int] = {}
        self._by_run: dict[int, set[EventAt]] = {}

    def count(self, run_id: int) -> int:
        """Distinct malformed events of one run among the records read so far."""
        return len(self._by_run.get(run_id, ()))

    def refresh(self, timeout: float = 10.0) -> DeadLetterReader:
        """Read up to the current end of the topic (a missing topic has no records)."""
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer({
            "bootstrap.servers": self.bootstrap, "group.id": "kappanb-dead-letters",
            "enable.auto.commit": False, "log_level": 3,
        })  # fmt: skip
        try:
            meta = consumer.list_topics(self.topic, timeout=timeout).topics.get(self.topic)
            if meta is None or meta.error is not None:
                return self
            ends: dict[int, int] = {}
            for p in meta.partitions:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(self.topic, p), timeout=timeout
                )
                self._next[p] = max(self._next.get(p, 0), low)
                if high > self._next[p]:
                    ends[p] = high
            if ends:
                consumer.assign([TopicPartition(self.topic, p, self._next[p]) for p in ends])
                self._read(consumer, ends, time.monotonic() + timeout)
        finally:
            consumer.close()
        return self

    def _read(self, consumer: Any, ends: dict[int, int], deadline: float) -> None:
        while ends and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            partition, offset = message.partition(), message.offset()
            self._next[partition] = offset + 1
            if offset + 1 >= ends.get(partition, 0):
                ends.pop(partition, None)
            record = parse(message.value())
            if record is not None:
                self.records.append(record)
                for run, found in distinct_by_run([record]).items():
                    self._by_run.setdefault(run, set()).update(found)


def malformed_counts(
    bootstrap: str, dead_letters: Mapping[int, Iterable[str]], timeout: float = 10.0
) -> dict[int, int]:
    """Per run id, the distinct malformed events in its dead-letter topics."""
    readers: dict[str, DeadLetterReader] = {}
    counts: dict[int, int] = {}
    for run_id, topics in dead_letters.items():
        for topic in topics:
            if topic not in readers:
                readers[topic] = DeadLetterReader(bootstrap, topic).refresh(timeout)
            counts[run_id] = counts.get(run_id, 0) + readers[topic].count(run_id)
    return counts
