"""`status` over several dead-letter topics reads them side by side (no I/O: the readers
are stand-ins that meet at a barrier, which only readers running together can pass)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kappanb.kafka import dead_letters
from kappanb.kafka.connection import KafkaConnection
from kappanb.kafka.dead_letters import Malformed, malformed_counts


def test_each_topic_is_read_once_and_all_at_the_same_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topics = ["a.dlq", "b.dlq", "c.dlq"]
    together = threading.Barrier(len(topics), timeout=30)  # sequential reads never pass it
    refreshed: list[str] = []

    class Reader:
        def __init__(self, connection: KafkaConnection, topic: str, store: Path | None) -> None:
            self.topic = topic

        def refresh(self, timeout: float) -> Reader:
            refreshed.append(self.topic)
            together.wait()
            return self

        def malformed(self, run_id: int) -> Malformed:
            return Malformed(run_id * 10 + len(self.topic), True)

    monkeypatch.setattr(dead_letters, "DeadLetterReader", Reader)
    connection = KafkaConnection.plain("127.0.0.1:1")
    counts = malformed_counts(connection, {1: ["a.dlq", "b.dlq"], 2: ["b.dlq", "c.dlq"]})
    assert sorted(refreshed) == topics  # b.dlq, read by both runs, once
    assert counts == {1: Malformed(2 * (10 + 5), True), 2: Malformed(2 * (20 + 5), True)}
