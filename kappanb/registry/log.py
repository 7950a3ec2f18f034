"""The registry's Kafka topic: append an event, read events back, ask where the log ends.

One partition (one order for every event), infinite retention, and
``message.timestamp.type=LogAppendTime``: the broker stamps each record with its own
clock, so the time an event carries is the same for every reader and no writer's clock
matters. Replication as for kappanb's other topics (three copies and
``min.insync.replicas=2`` on a cluster of three brokers or more, `kafka.topics`). The
producer is idempotent with ``acks=all`` and waits for each event to be written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kappanb.exceptions import RegistryLogError, RegistryUnreachableError
from kappanb.kafka.connection import KafkaConnection
from kappanb.kafka.topics import create_topic, describe_topic
from kappanb.registry.events import Event, decode

if TYPE_CHECKING:
    from confluent_kafka import Consumer, Producer

REGISTRY_TOPIC = "_kappanb.registry"
"""The topic of a cluster's registry (one per cluster; a profile may name another)."""
TOPIC_CONFIG = {"message.timestamp.type": "LogAppendTime"}
BATCH = 2000
"""Events read and applied per transaction while catching up."""


class RegistryLog:
    """The registry's topic on one Kafka cluster."""

    def __init__(self, kafka: KafkaConnection, topic: str = REGISTRY_TOPIC, timeout: float = 10.0):
        self.kafka, self.topic, self.timeout = kafka, topic, timeout
        self._producer: Producer | None = None
        self._consumer: Consumer | None = None
        self._next = -1  # the consumer's position (-1: not assigned)
        self._lock = threading.Lock()  # one reader at a time on the consumer
        self._producing = threading.Lock()  # the heartbeat's thread appends too

    @property
    def where(self) -> str:
        return f"topic {self.topic} on {self.kafka.bootstrap_servers}"

    # ---- the topic -------------------------------------------------------------------
    def topic_id(self) -> str | None:
        """The topic's id (a recreated topic has another), or None when it does not exist."""
        from confluent_kafka import KafkaError, KafkaException, TopicCollection
        from confluent_kafka.admin import AdminClient

        admin = AdminClient(self.kafka.client_config(log_level=3))
        future = admin.describe_topics(TopicCollection([self.topic]),
                                       request_timeout=self.timeout)[self.topic]  # fmt: skip
        try:
            return str(future.result(timeout=self.timeout).topic_id)
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return None
            raise self._problem("could not describe", exc) from None
        except Exception as exc:  # no answer in time
            why = str(exc) or f"no answer in {self.timeout:g} s"
            raise self._problem("could not describe", why) from None

    def create(self) -> None:
        """Make the topic (a second maker finds it made: no harm), then check it."""
        create_topic(self.kafka, self.topic, partitions=1, extra_config=TOPIC_CONFIG,
                     timeout=self.timeout)  # fmt: skip

    def check(self) -> None:
        """Refuse a topic another tool made unfit: several partitions, or producers' time."""
        info = describe_topic(self.kafka, self.topic, timeout=self.timeout)
        stamp = info.config.get("message.timestamp.type")
        if info.partitions != 1 or stamp != "LogAppendTime":
            raise RegistryLogError(
                f"the registry's {self.where} has {info.partitions} partition(s) and "
                f"message.timestamp.type={stamp}; it needs one partition (one order of events) "
                "and LogAppendTime (the broker's clock): recreate it so, or name another "
                "topic in the profile"
            )

    # ---- writing ---------------------------------------------------------------------
    def append(self, value: bytes) -> int:
        """Write one event and wait until the brokers have it: its offset."""
        producer = self._producer_once()
        result: dict[str, Any] = {}

        def delivered(err: Any, msg: Any) -> None:
            result["error"], result["offset"] = err, None if err else msg.offset()

        try:
            producer.produce(self.topic, value=value, partition=0, on_delivery=delivered)
            producer.flush(self.timeout)
        except Exception as exc:  # BufferError, KafkaException
            raise self._problem("could not write to", exc) from None
        if result.get("error") is not None or result.get("offset") is None:
            raise self._problem("could not write to", result.get("error") or "no answer in time")
        return int(result["offset"])

    def _producer_once(self) -> Producer:
        from confluent_kafka import Producer

        with self._producing:
            if self._producer is None:
                self._producer = Producer(self.kafka.client_config(
                    {"enable.idempotence": True, "acks": "all", "linger.ms": 0}, log_level=3,
                ))  # fmt: skip
            return self._producer

    # ---- reading ---------------------------------------------------------------------
    def end(self) -> int:
        """The offset the next event will get (the high watermark); the first kept offset
        must be 0, or events are missing (someone shortened the topic's retention)."""
        from confluent_kafka import TopicPartition

        with self._lock:
            try:
                low, high = self._consumer_once().get_watermark_offsets(
                    TopicPartition(self.topic, 0), timeout=self.timeout
                )
            except Exception as exc:
                if _unknown_topic(exc):
                    raise RegistryLogError(
                        f"the registry's {self.where} is gone (deleted while kappanb read it); "
                        "nothing is recreated in its place: restore it, or delete this "
                        "machine's registry cache to start an empty registry"
                    ) from None
                raise self._problem("could not read", exc) from None
        if low > 0:
            raise RegistryLogError(
                f"the registry's {self.where} starts at offset {low}: its first events were "
                "deleted (retention), so no machine can rebuild the registry from it"
            )
        return int(high)

    def read(self, start: int, end: int) -> Iterator[list[Event]]:
        """The events from ``start`` up to (not including) ``end``, in batches."""
        batch: list[Event] = []
        with self._lock:
            for event in self._records(start, end):
                batch.append(event)
                if len(batch) >= BATCH:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def _records(self, start: int, end: int) -> Iterator[Event]:
        from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, TopicPartition

        consumer = self._consumer_once()
        if self._next != start:
            consumer.assign([TopicPartition(self.topic, 0, start)])
            self._next = start
        while self._next < end:
            msg = consumer.poll(self.timeout)
            if msg is None:
                raise self._problem("could not read", f"nothing came for {self.timeout:g} s")
            if msg.error():
                raise self._problem("could not read", msg.error())
            kind, at_ms = msg.timestamp()
            if kind != TIMESTAMP_LOG_APPEND_TIME:
                raise RegistryLogError(
                    f"event {msg.offset()} of the registry's {self.where} has no broker time "
                    "stamp: the topic must have message.timestamp.type=LogAppendTime"
                )
            offset = msg.offset() or 0
            self._next = offset + 1
            yield decode(offset, int(at_ms), msg.value())

    def _consumer_once(self) -> Consumer:
        from confluent_kafka import Consumer

        if self._consumer is None:
            self._consumer = Consumer(self.kafka.client_config({
                "group.id": "kappanb-registry", "enable.auto.commit": False,
                "auto.offset.reset": "earliest", "fetch.wait.max.ms": 50,
            }, log_level=3))  # fmt: skip
        return self._consumer

    def _problem(self, what: str, why: object) -> RegistryUnreachableError:
        return RegistryUnreachableError(
            f"kappanb {what} the registry's {self.where}: {self.kafka.redact(str(why))}. "
            "Are the brokers reachable? (`kappanb status`)"
        )

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer, self._next = None, -1
            if self._producer is not None:
                self._producer.flush(self.timeout)
                self._producer = None


def _unknown_topic(exc: Exception) -> bool:
    from confluent_kafka import KafkaError, KafkaException

    return isinstance(exc, KafkaException) and exc.args[0].code() in (
        KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_PARTITION,
    )  # fmt: skip
