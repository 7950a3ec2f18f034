"""Releasing a held watermark: one heartbeat to the holding topic's clock
(`kappanb.kafka.clock`), once a run has read everything."""

from __future__ import annotations

from collections.abc import Sequence

from kappanb.kafka.clock import HEARTBEATS
from kappanb.kafka.connection import KafkaConnection
from kappanb.monitor.holds import WatermarkHold
from kappanb.monitor.sample import Sample
from kappanb.registry.records import TopicSpec


def release_hold(
    connection: KafkaConnection, topics: Sequence[TopicSpec], held: WatermarkHold, sample: Sample
) -> bool:
    """Send the clock of the topic ``held`` names a heartbeat of that topic's newest event
    time (from ``sample``); whether one went (at most one per moment, `Heartbeats`).

    Only once the run has read every partition up to the heads ``sample`` took the newest
    event time at (`Sample.read_to_heads`): the heartbeat carries the clock's partition to
    that moment, and a record still unread in a partition Flink has judged idle would come
    after it, late."""
    if not sample.read_to_heads():
        return False
    topic = next((t for t in topics if t.name == held.topic and t.event_time), None)
    newest = sample.partition_event_ms.get(held.topic)
    if topic is None or topic.event_time is None or not newest:
        return False
    columns = [(c.name, c.type) for c in topic.columns]
    newest_ms = max(newest.values())
    return HEARTBEATS.send(connection, topic.name, columns, topic.event_time, newest_ms)
