"""Reading a dead-letter topic: its records, and the malformed events each run found.

A run writes its DLQ records at least once: after a restart from a checkpoint the same
event may be written again. A count is therefore of distinct (topic, partition, offset)
per run id, never of records.

Counting is built for topics of millions of records:

- records are fetched in batches (``consume(num_messages=...)``), and of each only the
  four fields a count needs are picked out (`position`), not the whole JSON parsed;
- what was counted is kept per dead-letter topic in a `TallyFile` (given a folder), so
  each call, in any process, reads only the records added since the last one;
- a read that cannot reach the end it saw within its time is never passed off as a
  count: `Malformed.exact` is False, and the figure is a lower bound ("at least N").
  What it did read is kept, so the next call goes on from there.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kappanb.kafka.connection import KafkaConnection
from kappanb.kafka.dead_letter_tally import Tally, TallyFile

EventAt = tuple[str, int, int]
"""Where a malformed event is in its source topic: (topic, partition, offset)."""

BATCH = 10_000
"""Records per fetch from the client's queue."""
_ASK = 10.0
"""Seconds to wait for each answer about the topic (metadata, ends, its id)."""
_MERGE_EVERY = 500_000
"""Records whose positions are gathered before they are merged into the tally."""

# Flink's JSON format writes compact JSON, fields in the DLQ table's order. A name then ':'
# can only be a key (inside a string every '"' is escaped), and "topic" follows the
# payload: the last '"topic":"' of a record begins its own topic, partition, offset, run id.
_TOPIC_KEY = b'"topic":"'
_FIELDS = re.compile(
    rb'"topic":"([^"\\]*)","partition":(\d+),"offset":(\d+),'
    rb'"job":"(?:[^"\\]|\\.)*","version":-?\d+,"run_id":(\d+),'
)


def parse(value: bytes | None) -> dict[str, Any] | None:
    """One DLQ record as a dict, or None when it is not one of kappanb's."""
    try:
        record = json.loads(value or b"")
    except ValueError:
        return None
    if not isinstance(record, dict) or not {"run_id", "partition", "offset"} <= record.keys():
        return None
    return record


def position(value: bytes | None) -> tuple[int, str, int, int] | None:
    """(run id, source topic, partition, offset) of a DLQ record; None if not kappanb's."""
    if value and (found := _FIELDS.match(value, max(0, value.rfind(_TOPIC_KEY)))):
        topic, partition, offset, run = found.groups()
        return int(run), topic.decode(), int(partition), int(offset)
    record = parse(value)  # other spellings of the same JSON: the slow, sure way
    if record is None:
        return None
    try:
        at = (int(record["run_id"]), str(record.get("topic")))
        return *at, int(record["partition"]), int(record["offset"])
    except (TypeError, ValueError):
        return None


def distinct_by_run(records: Iterable[Mapping[str, Any]]) -> dict[int, set[EventAt]]:
    """Per run id, the distinct source positions of its malformed events."""
    found: dict[int, set[EventAt]] = {}
    for r in records:
        at = (str(r.get("topic")), int(r["partition"]), int(r["offset"]))
        found.setdefault(int(r["run_id"]), set()).add(at)
    return found


@dataclass(frozen=True)
class Malformed:
    """A run's distinct malformed events in one or more dead-letter topics."""

    count: int
    exact: bool = True
    """False when a topic could not be read to its end in time: ``count`` is a lower bound."""

    def __add__(self, other: Malformed) -> Malformed:
        return Malformed(self.count + other.count, self.exact and other.exact)


class DeadLetterReader:
    """Counts one dead-letter topic, each call reading only what was added since the last.

    With ``store`` (a folder), what was counted is kept there across calls and processes.
    """

    def __init__(self, connection: KafkaConnection, topic: str, store: Path | None = None) -> None:
        self.connection, self.topic = connection, topic
        self.file = TallyFile(store, topic) if store is not None else None
        self.tally = Tally()
        self.complete = False
        """The last refresh read up to the end of the topic as it was when it began."""
        self.last_read = 0
        """Records the last refresh fetched from Kafka."""

    def count(self, run_id: int) -> int:
        """Distinct malformed events of one run among the records read so far."""
        return self.tally.count(run_id)

    def malformed(self, run_id: int) -> Malformed:
        return Malformed(self.count(run_id), self.complete)

    def refresh(self, timeout: float = 10.0) -> DeadLetterReader:
        """Read up to the current end of the topic (a missing topic has no records), for
        at most about ``timeout`` seconds; `complete` says whether it got there."""
        from confluent_kafka import Consumer

        deadline = time.monotonic() + timeout
        if self.file is not None and self.file.changed():
            self.tally = self.file.load()  # another call went further, or this is the first
        consumer = Consumer(self.connection.client_config({
            "group.id": "kappanb-dead-letters", "enable.auto.commit": False,
            "enable.partition.eof": True, "log_level": 3,
        }))  # fmt: skip
        self.last_read = 0
        try:
            before = dict(self.tally.next)
            self.complete = self._read(consumer, deadline)
        finally:
            consumer.close()
        if self.file is not None and self.tally.next != before:
            self.file.save(self.tally)
        return self

    def _read(self, consumer: Any, deadline: float) -> bool:
        """Read on from the tally's offsets; True when every partition reached its end."""
        from confluent_kafka import TopicPartition

        meta = consumer.list_topics(self.topic, timeout=_ASK).topics.get(self.topic)
        if meta is None or meta.error is not None:
            return True
        topic_id = _topic_id(self.connection, self.topic, _ASK)
        if topic_id != self.tally.topic_id:
            self.tally = Tally(topic_id)  # a new topic of the same name: count it afresh
        ends: dict[int, int] = {}
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(self.topic, p), _ASK)
            self.tally.next[p] = max(self.tally.next.get(p, 0), low)
            if high > self.tally.next[p]:
                ends[p] = high
        if not ends:
            return True
        consumer.assign([TopicPartition(self.topic, p, self.tally.next[p]) for p in ends])
        return self._consume(consumer, ends, deadline)

    def _consume(self, consumer: Any, ends: dict[int, int], deadline: float) -> bool:
        # The hot loop: per record one search and one match, numbers kept as bytes until
        # a whole batch is merged; the next offsets are asked of the client per batch.
        quick: dict[tuple[bytes, bytes, bytes], list[bytes]] = defaultdict(list)
        sure: dict[tuple[int, str, int], list[int]] = defaultdict(list)
        assigned, match = consumer.assignment(), _FIELDS.match
        while ends and (left := deadline - time.monotonic()) > 0:
            for message in consumer.consume(BATCH, timeout=min(left, 1.0)):
                if message.error() is not None:  # the end of a partition (or a hiccup)
                    continue
                self.last_read += 1
                value = message.value()
                if value and (found := match(value, max(0, value.rfind(_TOPIC_KEY)))):
                    topic, partition, offset, run = found.groups()
                    quick[run, topic, partition].append(offset)
                elif (at := position(value)) is not None:
                    sure[at[:3]].append(at[3])
            for tp in consumer.position(assigned):
                if tp.offset >= 0:
                    self.tally.next[tp.partition] = max(self.tally.next[tp.partition], tp.offset)
            ends = {p: end for p, end in ends.items() if self.tally.next[p] < end}
            if sum(map(len, quick.values())) >= _MERGE_EVERY:
                self._merge(quick, sure)
        self._merge(quick, sure)
        return not ends

    def _merge(
        self, quick: dict[tuple[bytes, bytes, bytes], list[bytes]],
        sure: dict[tuple[int, str, int], list[int]],
    ) -> None:  # fmt: skip
        for (run, topic, partition), offsets in quick.items():
            sure[int(run), topic.decode(), int(partition)].extend(map(int, offsets))
        self.tally.add(sure)
        quick.clear()
        sure.clear()


def _topic_id(connection: KafkaConnection, topic: str, timeout: float) -> str | None:
    """Kafka's id of the topic: it changes when the topic is deleted and created again."""
    from confluent_kafka import TopicCollection
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(connection.client_config(log_level=3))
    futures = admin.describe_topics(TopicCollection([topic]), request_timeout=timeout)
    return str(futures[topic].result(timeout=timeout).topic_id)


def read_records(
    connection: KafkaConnection, topic: str, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Every kappanb record of a (small) dead-letter topic, whole: for tests and debugging."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(connection.client_config(
        {"group.id": "kappanb-dead-letters", "enable.auto.commit": False}, log_level=3
    ))  # fmt: skip
    records: list[dict[str, Any]] = []
    try:
        meta = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if meta is None or meta.error is not None:
            return records
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout)
            if high > low:
                consumer.assign([TopicPartition(topic, p, low)])
                records += _read_to(consumer, high, time.monotonic() + timeout)
    finally:
        consumer.close()
    return records


def _read_to(consumer: Any, end: int, deadline: float) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    offset = -1
    while offset + 1 < end and time.monotonic() < deadline:
        for message in consumer.consume(BATCH, timeout=1.0):
            if message.error() is None:
                offset = message.offset()
                if (record := parse(message.value())) is not None:
                    records.append(record)
    if offset + 1 < end:
        raise TimeoutError(f"read {len(records)} records of the dead-letter topic, not all")
    return records


def malformed_counts(
    connection: KafkaConnection, dead_letters: Mapping[int, Iterable[str]], timeout: float = 10.0,
    store: Path | None = None,
) -> dict[int, Malformed]:  # fmt: skip
    """Per run id, the distinct malformed events in its dead-letter topics.

    The topics are read side by side, each for at most about ``timeout`` seconds, so a
    `status` over several large dead-letter topics not counted yet takes about ``timeout``
    in all, not that per topic (a count whose read did not finish says "at least")."""
    wanted = list(dict.fromkeys(t for topics in dead_letters.values() for t in topics))
    readers = {t: DeadLetterReader(connection, t, store) for t in wanted}
    if readers:
        with ThreadPoolExecutor(min(len(readers), 8), "kappanb-dead-letters") as pool:
            list(pool.map(lambda reader: reader.refresh(timeout), readers.values()))
    counts: dict[int, Malformed] = {}
    for run_id, topics in dead_letters.items():
        for topic in topics:
            counts[run_id] = counts.get(run_id, Malformed(0)) + readers[topic].malformed(run_id)
    return counts
