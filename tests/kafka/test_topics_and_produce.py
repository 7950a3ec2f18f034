from __future__ import annotations

import json
import time
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from kappanb.exceptions import ProduceError, TopicError
from kappanb.kafka.produce import produce_json
from kappanb.kafka.topics import create_topic, describe_topic, end_offsets
from kappanb.stack.endpoints import Endpoints

pytestmark = pytest.mark.integration


def test_topic_is_created_once_with_infinite_retention(endpoints: Endpoints) -> None:
    kafka = endpoints.kafka
    assert create_topic(kafka, "payments.retention.v1", partitions=3) is True
    assert create_topic(kafka, "payments.retention.v1", partitions=3) is False
    info = describe_topic(kafka, "payments.retention.v1")
    assert info.partitions == 3
    assert info.config["retention.ms"] == "-1"
    assert info.config["retention.bytes"] == "-1"
    assert info.config["cleanup.policy"] == "delete"


def test_compacted_topic(endpoints: Endpoints) -> None:
    create_topic(endpoints.kafka, "merchants.profile.v1", compact=True)
    info = describe_topic(endpoints.kafka, "merchants.profile.v1")
    assert info.config["cleanup.policy"] == "compact"


def test_bad_partition_count_is_refused(endpoints: Endpoints) -> None:
    with pytest.raises(TopicError, match="at least one partition"):
        create_topic(endpoints.kafka, "x.v1", partitions=0)


def test_produced_events_are_all_there_in_order_per_key(endpoints: Endpoints) -> None:
    bootstrap = endpoints.bootstrap_servers
    create_topic(endpoints.kafka, "produce.check.v1", partitions=2)
    events = [{"id": i, "merchant": f"m{i % 5}"} for i in range(2000)]
    result = produce_json(endpoints.kafka, "produce.check.v1", events, key="merchant")
    assert result.delivered == 2000
    assert sum(end_offsets(endpoints.kafka, "produce.check.v1").values()) == 2000
    # Read by explicit assignment from offset 0: no consumer-group join to wait for.
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "produce-check", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition("produce.check.v1", p, OFFSET_BEGINNING) for p in (0, 1)])
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    try:
        while len(seen) < 2000 and time.monotonic() < deadline:
            msg = consumer.poll(1)
            if msg is None:
                continue
            assert msg.error() is None
            seen.append(json.loads(msg.value()))
            assert msg.key().decode() == seen[-1]["merchant"]
    finally:
        consumer.close()
    assert sorted(e["id"] for e in seen) == list(range(2000))
    for merchant in {e["merchant"] for e in events}:  # one key -> one partition -> in order
        ids = [e["id"] for e in seen if e["merchant"] == merchant]
        assert ids == sorted(ids)


def test_producing_to_a_missing_topic_fails_at_once(endpoints: Endpoints) -> None:
    with pytest.raises(ProduceError, match=r"does not exist.*create it first"):
        produce_json(endpoints.kafka, "no.such.topic.v1", [{"a": 1}])
