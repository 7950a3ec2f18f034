"""Produce JSON events to Kafka: batched, every delivery checked."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kappanb.exceptions import ProduceError

_PRODUCER_CONFIG = {
    "enable.idempotence": True,  # no duplicates from retries: the log stays exact
    "acks": "all",
    "linger.ms": 20,
    "batch.num.messages": 10000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 200000,
    "message.timeout.ms": 60000,
}


@dataclass(frozen=True)
class ProduceResult:
    topic: str
    delivered: int

    def __str__(self) -> str:
        return f"delivered {self.delivered} events to {self.topic}"


def produce_json(
    bootstrap: str,
    topic: str,
    events: Iterable[Mapping[str, Any]],
    *,
    key: str | Callable[[Mapping[str, Any]], Any] | None = None,
    timeout: float = 120.0,
) -> ProduceResult:
    """Send each event as one JSON message; raise unless every one was acknowledged.

    ``key`` names a field (or gives a function) whose value becomes the message key,
    which decides the partition and, on compacted topics, what counts as the same entity.
    """
    from confluent_kafka import KafkaException, Producer

    producer = Producer({"bootstrap.servers": bootstrap, **_PRODUCER_CONFIG})
    _check_topic(producer, bootstrap, topic)
    failures: list[str] = []
    delivered = 0

    def on_delivery(err: Any, _msg: Any) -> None:
        nonlocal delivered
        if err is None:
            delivered += 1
        elif len(failures) < 5:
            failures.append(str(err))

    key_of = (lambda e: e[key]) if isinstance(key, str) else key
    sent = 0
    try:
        for event in events:
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
    except KafkaException as exc:
        raise ProduceError(f"producing to {topic!r} failed: {exc}") from exc
    remaining = producer.flush(timeout)
    if remaining or failures or delivered != sent:
        detail = "; ".join(failures) or f"{remaining} still queued after {timeout:.0f} s"
        raise ProduceError(
            f"{sent - delivered} of {sent} events to {topic!r} were not acknowledged ({detail}). "
            "Is the broker running and does the topic exist? (`kappanb status`)"
        )
    return ProduceResult(topic, delivered)


def _check_topic(producer: Any, bootstrap: str, topic: str) -> None:
    """Fail at once, not after the delivery timeout, when the topic is missing."""
    try:
        metadata = producer.list_topics(topic, timeout=10)
    except Exception as exc:
        raise ProduceError(
            f"could not reach Kafka at {bootstrap}: {exc}. "
            "Is the broker running? (`kappanb status`)"
        ) from exc
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        raise ProduceError(
            f"topic {topic!r} does not exist on {bootstrap}: create it first "
            "(kappanb creates no topic implicitly)."
        )
