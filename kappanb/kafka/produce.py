"""Produce JSON events to Kafka: batched, every delivery checked."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kappanb.display.plain import plain_text
from kappanb.exceptions import ProduceError, SettingsError
from kappanb.kafka.connection import KafkaConnection

_PRODUCER_CONFIG = {
    "enable.idempotence": True,  # no duplicates from retries: the log stays exact
    "acks": "all",
    "linger.ms": 20,
    "batch.num.messages": 10000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 200000,
    "message.timeout.ms": 60000,
}
_POLL_STEP_S = 0.05  # while pacing, the producer is polled at least this often
_MAX_BURST_S = 0.25  # after a stall, a paced stream catches up at most this much


@plain_text
@dataclass(frozen=True)
class ProduceResult:
    topic: str
    delivered: int

    def __str__(self) -> str:
        return f"delivered {self.delivered:,} events to {self.topic}"


def produce_json(
    connection: KafkaConnection,
    topic: str,
    events: Iterable[Mapping[str, Any]],
    *,
    key: str | Callable[[Mapping[str, Any]], Any] | None = None,
    timeout: float = 120.0,
    rate: float | None = None,
    stop: threading.Event | None = None,
) -> ProduceResult:
    """Send each event as one JSON message; raise unless every one was acknowledged.

    ``key`` names a field (or gives a function) whose value becomes the message key,
    which decides the partition and, on compacted topics, what counts as the same entity.
    ``rate`` (events per second) paces the sends on the wall clock, for a live-looking
    stream; ``stop``, when set (say from another thread), ends the sending early: what was
    sent until then is still flushed and checked. Frames go through ``to_records`` first.
    """
    from confluent_kafka import KafkaException, Producer

    if rate is not None and not rate > 0:
        raise SettingsError(f"rate is events per second and must be more than 0, not {rate}.")
    producer = Producer(connection.client_config(_PRODUCER_CONFIG, log_level=3))
    _check_topic(producer, connection, topic)
    deliveries = _Deliveries()
    key_of = (lambda e: e[key]) if isinstance(key, str) else key
    pacer = None if rate is None else Pacer(rate, producer.poll, stop)
    try:
        sent = _send_all(producer, topic, events, key_of, deliveries.on_delivery, pacer, stop)
    except KafkaException as exc:
        raise ProduceError(f"producing to {topic!r} failed: {exc}") from exc
    remaining = producer.flush(timeout)
    if remaining or deliveries.failures or deliveries.delivered != sent:
        detail = "; ".join(deliveries.failures) or f"{remaining} still queued after {timeout:.0f} s"
        raise ProduceError(
            f"{sent - deliveries.delivered} of {sent} events to {topic!r} were not acknowledged "
            f"({detail}). Is the broker running and does the topic exist? (`kappanb status`)"
        )
    return ProduceResult(topic, deliveries.delivered)


class _Deliveries:
    """The producer's delivery reports: how many were acknowledged, the first few errors."""

    def __init__(self) -> None:
        self.delivered = 0
        self.failures: list[str] = []

    def on_delivery(self, err: Any, _msg: Any) -> None:
        if err is None:
            self.delivered += 1
        elif len(self.failures) < 5:
            self.failures.append(str(err))


class Pacer:
    """Spaces calls to :meth:`wait` ``1 / rate`` seconds apart on the wall clock.

    While waiting it calls ``poll`` in short steps (the producer's delivery callbacks keep
    running) and watches ``stop``. After a stall it catches up with a burst of at most
    ``_MAX_BURST_S`` seconds' worth of events, then keeps the rate again.
    """

    def __init__(
        self, rate: float, poll: Callable[[float], object], stop: threading.Event | None = None
    ) -> None:
        self._interval = 1.0 / rate
        self._poll = poll
        self._stop = stop
        self._due: float | None = None

    def wait(self) -> bool:
        """Wait for the next slot; False (at once) when ``stop`` is set."""
        now = time.monotonic()
        due = now if self._due is None else max(self._due, now - _MAX_BURST_S)
        while now < due and not self._stopped():
            self._poll(min(_POLL_STEP_S, due - now))
            now = time.monotonic()
        self._due = due + self._interval
        return not self._stopped()

    def _stopped(self) -> bool:
        return self._stop is not None and self._stop.is_set()


def _send_all(
    producer: Any,
    topic: str,
    events: Iterable[Mapping[str, Any]],
    key_of: Callable[[Mapping[str, Any]], Any] | None,
    on_delivery: Callable[[Any, Any], None],
    pacer: Pacer | None,
    stop: threading.Event | None,
) -> int:
    """Queue the events on the producer (paced if asked) until done or stopped; the count."""
    sent = 0
    for event in events:
        if pacer is not None and not pacer.wait():
            break
        if pacer is None and stop is not None and stop.is_set():
            break
        value = json.dumps(event, separators=(",", ":"), default=str).encode()
        msg_key = None if key_of is None else str(key_of(event)).encode()
        while True:
            try:
                producer.produce(topic, value, msg_key, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.05)  # local queue full: let deliveries drain
        sent += 1
        if sent % 10000 == 0:
            producer.poll(0)
    return sent


def _check_topic(producer: Any, connection: KafkaConnection, topic: str) -> None:
    """Fail at once, not after the delivery timeout, when the topic is missing."""
    try:
        metadata = producer.list_topics(topic, timeout=10)
    except Exception as exc:
        raise ProduceError(
            f"could not reach Kafka at {connection.bootstrap_servers}: "
            f"{connection.redact(str(exc))}. "
            "Is the broker running? (`kappanb status`)"
        ) from exc
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        raise ProduceError(
            f"topic {topic!r} does not exist on {connection.bootstrap_servers}: create it "
            "first, e.g. by "
            f"declaring it (again) with `topic {topic} --schema ...` (kappanb creates no "
            "topic implicitly)."
        )
