"""Create and describe Kafka topics. The log is the system of record: retention is infinite."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kappanb.exceptions import TopicError

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int
    config: dict[str, str]


def _admin(bootstrap: str) -> AdminClient:
    from confluent_kafka.admin import AdminClient

    # log_level 3: librdkafka's errors only, not its informational lines on stderr
    return AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})


def create_topic(
    bootstrap: str,
    name: str,
    *,
    partitions: int = 1,
    compact: bool = False,
    timeout: float = 30.0,
) -> bool:
    """Create ``name`` if missing. Returns True when created, False when it already existed.

    Retention is infinite (``retention.ms=-1``); ``compact`` keeps the latest value per key
    instead of every event.
    """
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import NewTopic

    if partitions < 1:
        raise TopicError(f"a topic needs at least one partition, not {partitions}")
    config = {
        "retention.ms": "-1",
        "retention.bytes": "-1",
        "cleanup.policy": "compact" if compact else "delete",
    }
    admin = _admin(bootstrap)
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config)],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    try:
        futures[name].result(timeout=timeout)
    except KafkaException as exc:
        err = exc.args[0]
        if err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
            return False
        raise TopicError(f"could not create topic {name!r}: {err.str()}") from exc
    except Exception as exc:
        raise TopicError(
            f"could not create topic {name!r} on {bootstrap}: {exc}. "
            "Is the broker running? (`kappanb status`)"
        ) from exc
    return True


def describe_topic(bootstrap: str, name: str, timeout: float = 10.0) -> TopicInfo:
    """Partition count and topic configuration of ``name``."""
    from confluent_kafka.admin import ConfigResource, ResourceType

    admin = _admin(bootstrap)
    try:
        metadata = admin.list_topics(topic=name, timeout=timeout)
    except Exception as exc:
        raise TopicError(f"could not reach Kafka at {bootstrap}: {exc}") from exc
    topic = metadata.topics.get(name)
    if topic is None or topic.error is not None:
        raise TopicError(f"topic {name!r} does not exist on {bootstrap}")
    resource = ConfigResource(ResourceType.TOPIC, name)
    configs = admin.describe_configs([resource])[resource].result(timeout=timeout)
    return TopicInfo(name, len(topic.partitions), {k: v.value for k, v in configs.items()})


def end_offsets(bootstrap: str, name: str, timeout: float = 10.0) -> dict[int, int]:
    """The next offset to be written, per partition (the head of the log)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "kappanb-offsets", "enable.auto.commit": False}
    )
    try:
        # The consumer's own metadata gives the partitions: no second client, no config fetch.
        topic = consumer.list_topics(name, timeout=timeout).topics.get(name)
        if topic is None or topic.error is not None:
            raise TopicError(f"topic {name!r} does not exist on {bootstrap}")
        result = {}
        for p in sorted(topic.partitions):
            _low, high = consumer.get_watermark_offsets(TopicPartition(name, p), timeout=timeout)
            result[p] = int(high)
        return result
    finally:
        consumer.close()
