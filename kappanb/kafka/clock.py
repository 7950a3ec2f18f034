"""A topic's clock: a one-partition topic of kappanb's own beside each topic with an event
time, read by every run of the topic as part of the same Kafka source.

Why: Flink's watermark is the lowest among a source's partitions that are not idle. When
the last partitions fall quiet in the same moment (a run that has read all there is), the
watermark stays at the lowest of *their* newest events, and a window ending between that
and the newest event of the topic never fires: the data closed it, Flink does not. Once
kappanb sees a run read to the end whose watermark is held that way, it writes one
heartbeat to the clock: a record whose event time is the topic's newest. The clock's
partition then carries the watermark up to what the data closes, and falls quiet in turn.

A heartbeat is a valid row of the topic's schema (NULL where a column may be null, a zero
value where it may not), and each run's view of the topic keeps the topic's own records
only, so no job sees one and none goes to a dead-letter topic.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from kappanb.kafka.connection import KafkaConnection

CLOCK_SUFFIX = ".kappanb-clock"
RESEND_AFTER_S = 10.0
"""A heartbeat for the same moment goes again after this long (a run restored from a
checkpoint taken before it may need it again)."""

_ZERO = (
    (("STRING", "VARCHAR", "CHAR", "BYTES", "VARBINARY", "BINARY"), ""),
    (("BOOLEAN",), False),
    (("TINYINT", "SMALLINT", "INT", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL", "NUMERIC"), 0),
    (("DATE",), "1970-01-01"),
    (("TIMESTAMP",), "1970-01-01 00:00:00"),
    (("TIME",), "00:00:00"),
)


def clock_topic(topic: str) -> str:
    return f"{topic}{CLOCK_SUFFIX}"


def event_time_text(event_ms: int) -> str:
    """Epoch milliseconds as the JSON of an event time (UTC, as jobs run)."""
    moment = datetime.fromtimestamp(event_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{event_ms % 1000:03d}"


def heartbeat(columns: Sequence[tuple[str, str]], event_time: str, event_ms: int) -> bytes:
    """The heartbeat record: ``columns`` are (name, Flink type) of the topic's schema."""
    record: dict[str, Any] = {}
    for name, sql_type in columns:
        if name == event_time:
            record[name] = event_time_text(event_ms)
        elif "NOT NULL" in sql_type.upper():
            record[name] = _zero(sql_type)
        else:
            record[name] = None
    return json.dumps(record).encode()


def _zero(sql_type: str) -> Any:
    upper = sql_type.upper().strip()
    for prefixes, value in _ZERO:
        if upper.startswith(prefixes):
            return value
    return None


class Heartbeats:
    """Sends heartbeats to clocks, at most one per topic and moment each `RESEND_AFTER_S`
    (shared by every watch of this process)."""

    def __init__(self) -> None:
        self._sent: dict[tuple[str, str, int], float] = {}
        self._lock = threading.Lock()

    def send(
        self, connection: KafkaConnection, topic: str, columns: Sequence[tuple[str, str]],
        event_time: str, event_ms: int,
    ) -> bool:  # fmt: skip
        """Write a heartbeat of ``event_ms`` to ``topic``'s clock unless one went lately."""
        key, now = (connection.bootstrap_servers, topic, event_ms), time.monotonic()
        with self._lock:
            if now - self._sent.get(key, -RESEND_AFTER_S) < RESEND_AFTER_S:
                return False
            self._sent[key] = now
        from confluent_kafka import Producer

        producer = Producer(connection.client_config(log_level=3))
        producer.produce(clock_topic(topic), heartbeat(columns, event_time, event_ms))
        return producer.flush(10) == 0


HEARTBEATS = Heartbeats()
