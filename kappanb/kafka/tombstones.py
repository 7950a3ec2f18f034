"""Tombstones: a record with a key and no value, which tells a compacted topic's cleaner
to drop the key's earlier records (and, after ``delete.retention.ms``, the tombstone).

Each goes to the partition the key's records are in (as the archive recorded them), not
to where a partitioner would hash it: librdkafka's default partitioner is not Java's, and
a tombstone in another partition removes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kappanb.exceptions import TombstoneError
from kappanb.kafka.connection import KafkaConnection

_CONFIG = {"enable.idempotence": True, "acks": "all", "message.timeout.ms": 60000}


def write_tombstones(
    connection: KafkaConnection, topic: str, keys: Iterable[tuple[int, bytes]],
    timeout: float = 60.0,
) -> int:  # fmt: skip
    """Send one tombstone per (partition, key); raise unless every one was acknowledged.
    Returns how many were written."""
    from confluent_kafka import KafkaException, Producer

    pairs = sorted(set(keys))
    if not pairs:
        return 0
    producer = Producer(connection.client_config(_CONFIG, log_level=3))
    failures: list[str] = []
    delivered = 0

    def on_delivery(err: Any, _msg: Any) -> None:
        nonlocal delivered
        if err is not None:
            failures.append(connection.redact(str(err)))
        else:
            delivered += 1

    try:
        for partition, key in pairs:
            producer.produce(topic, None, key=key, partition=partition, on_delivery=on_delivery)
            producer.poll(0)
    except (KafkaException, BufferError) as exc:
        raise TombstoneError(
            f"writing tombstones to {topic!r} failed: {connection.redact(str(exc))}; "
            "`forget` again writes them all (a tombstone twice removes nothing more)"
        ) from None
    remaining = producer.flush(timeout)
    if remaining or failures or delivered != len(pairs):
        detail = "; ".join(failures[:3]) or f"{remaining} still queued after {timeout:.0f} s"
        raise TombstoneError(
            f"{len(pairs) - delivered} of {len(pairs)} tombstones to {topic!r} were not "
            f"acknowledged ({detail}); nothing was deleted from the archive: `forget` again "
            "once Kafka answers (`status`)"
        )
    return delivered
