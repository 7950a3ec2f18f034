"""Create and describe Kafka topics. The log is the system of record: retention is infinite
unless a topic is declared with a finite one (``retention_ms``).

On a cluster of three brokers or more a new topic has three copies, two of which must
have each write (``min.insync.replicas=2``, with the producers' ``acks=all``): one broker
may be down without losing an acknowledged event or refusing writes. With fewer brokers
(the embedded stack's one) a topic has one copy per broker and the broker's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kappanb.exceptions import TopicError
from kappanb.kafka.connection import KafkaConnection

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient

REPLICAS = 3
"""Copies of each new topic on a cluster that has that many brokers."""
MIN_IN_SYNC = 2
"""Copies that must have a write before it is acknowledged, with `REPLICAS` copies."""


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int
    config: dict[str, str]


def replication_for(brokers: int, wanted: int | None = None) -> tuple[int, dict[str, str]]:
    """The replication factor and the topic configuration that goes with it, for a new
    topic on a cluster of ``brokers``: ``wanted``, else `REPLICAS` when there are that
    many brokers, else one copy per broker (no ``min.insync.replicas`` override then)."""
    replication = wanted if wanted is not None else max(1, min(brokers, REPLICAS))
    if replication < 1:
        raise TopicError(f"a topic needs at least one copy, not a replication factor {replication}")
    if replication > brokers:
        raise TopicError(
            f"a replication factor of {replication} needs as many brokers; the cluster has "
            f"{brokers}: ask for at most {brokers}"
        )
    configs = {"min.insync.replicas": str(MIN_IN_SYNC)} if replication >= REPLICAS else {}
    return replication, configs


def _admin(connection: KafkaConnection) -> AdminClient:
    from confluent_kafka.admin import AdminClient

    # log_level 3: librdkafka's errors only, not its informational lines on stderr
    return AdminClient(connection.client_config(log_level=3))


def _not_created(connection: KafkaConnection, name: str, exc: Exception) -> TopicError:
    return TopicError(
        f"could not create topic {name!r} on {connection.bootstrap_servers}: "
        f"{connection.redact(str(exc))}. Is the broker running? (`kappanb status`)"
    )


def create_topic(
    connection: KafkaConnection,
    name: str,
    *,
    partitions: int = 1,
    compact: bool = False,
    replication_factor: int | None = None,
    extra_config: Mapping[str, str] | None = None,
    retention_ms: int | None = None,
    timeout: float = 30.0,
) -> bool:
    """Create ``name`` if missing. Returns True when created, False when it already existed
    (it is then left as it is).

    Retention is infinite (``retention.ms=-1``) unless ``retention_ms`` is given; ``compact``
    keeps the latest value per key instead of every event. The replication factor is
    ``replication_factor``, else chosen from the cluster's brokers (`replication_for`).
    ``extra_config`` adds (or overrides) topic settings, e.g.
    ``{"message.timestamp.type": "LogAppendTime"}``.
    """
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import NewTopic

    if partitions < 1:
        raise TopicError(f"a topic needs at least one partition, not {partitions}")
    admin = _admin(connection)
    try:
        brokers = len(admin.describe_cluster(request_timeout=timeout).result(timeout=timeout).nodes)
    except Exception as exc:
        raise _not_created(connection, name, exc) from exc
    replication, durability = replication_for(brokers, replication_factor)
    config = {
        "retention.ms": str(retention_ms) if retention_ms else "-1",
        "retention.bytes": "-1",
        "cleanup.policy": "compact" if compact else "delete",
        **durability,
        **(extra_config or {}),
    }
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=replication, config=config)],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    try:
        futures[name].result(timeout=timeout)
    except KafkaException as exc:
        err = exc.args[0]
        if err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
            return False
        raise TopicError(
            f"could not create topic {name!r}: {connection.redact(err.str())}"
        ) from exc
    except Exception as exc:
        raise _not_created(connection, name, exc) from exc
    return True


def set_retention(
    connection: KafkaConnection, name: str, retention_ms: int, timeout: float = 30.0
) -> None:
    """Set ``retention.ms`` of an existing topic (its other settings are left as they are)."""
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

    entry = ConfigEntry("retention.ms", str(retention_ms),
                        incremental_operation=AlterConfigOpType.SET)  # fmt: skip
    resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[entry])
    admin = _admin(connection)  # kept until the answer: a dropped client cancels it
    try:
        admin.incremental_alter_configs([resource])[resource].result(timeout=timeout)
    except Exception as exc:
        raise TopicError(
            f"could not set retention.ms of topic {name!r}: {connection.redact(str(exc))}"
        ) from exc


def describe_topic(connection: KafkaConnection, name: str, timeout: float = 10.0) -> TopicInfo:
    """Partition count and topic configuration of ``name``."""
    from confluent_kafka.admin import ConfigResource, ResourceType

    admin = _admin(connection)
    try:
        metadata = admin.list_topics(topic=name, timeout=timeout)
    except Exception as exc:
        where, why = connection.bootstrap_servers, connection.redact(str(exc))
        raise TopicError(f"could not reach Kafka at {where}: {why}") from exc
    topic = metadata.topics.get(name)
    if topic is None or topic.error is not None:
        raise TopicError(f"topic {name!r} does not exist on {connection.bootstrap_servers}")
    resource = ConfigResource(ResourceType.TOPIC, name)
    configs = admin.describe_configs([resource])[resource].result(timeout=timeout)
    return TopicInfo(name, len(topic.partitions), {k: v.value for k, v in configs.items()})


def topic_exists(connection: KafkaConnection, name: str, timeout: float = 10.0) -> bool:
    """Does Kafka have topic ``name``? Asked by an admin client: no consumer group (and so
    no ``__consumer_offsets``) is made, and no topic is created by asking."""
    try:
        metadata = _admin(connection).list_topics(topic=name, timeout=timeout)
    except Exception as exc:
        where, why = connection.bootstrap_servers, connection.redact(str(exc))
        raise TopicError(f"could not reach Kafka at {where}: {why}") from exc
    topic = metadata.topics.get(name)
    return topic is not None and topic.error is None


def end_offsets(connection: KafkaConnection, name: str, timeout: float = 10.0) -> dict[int, int]:
    """The next offset to be written, per partition (the head of the log)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        connection.client_config({"group.id": "kappanb-offsets", "enable.auto.commit": False})
    )
    try:
        # The consumer's own metadata gives the partitions: no second client, no config fetch.
        topic = consumer.list_topics(name, timeout=timeout).topics.get(name)
        if topic is None or topic.error is not None:
            raise TopicError(f"topic {name!r} does not exist on {connection.bootstrap_servers}")
        result = {}
        for p in sorted(topic.partitions):
            _low, high = consumer.get_watermark_offsets(TopicPartition(name, p), timeout=timeout)
            result[p] = int(high)
        return result
    finally:
        consumer.close()
