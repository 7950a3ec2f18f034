"""When the stack has gone, kappanb makes no Kafka client that would retry it (no I/O:
Flink's REST port refuses, and a Kafka client made anyway fails the test)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from kappanb.exceptions import FlinkRestError
from kappanb.flink.rest import FlinkRest
from kappanb.kafka.connection import KafkaConnection
from kappanb.monitor.sample import Sample, sample_run
from kappanb.monitor.watcher import RunWatch


def test_a_sample_asks_flink_first_and_makes_no_kafka_client_when_it_is_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_kafka(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("a Kafka client was made for a stack whose Flink is gone")

    monkeypatch.setattr("kappanb.kafka.positions.log_positions", no_kafka)
    gone = FlinkRest("http://127.0.0.1:1")  # nothing listens on port 1: refused at once
    with pytest.raises(FlinkRestError):
        sample_run(gone, KafkaConnection.plain("127.0.0.1:1"), "f" * 32, "g", ["t"])


def test_down_stops_this_process_watches_before_the_stack(tmp_path: Path) -> None:
    from kappanb.workbench import Workbench
    from tests.stack.fake_stack import FakeStack

    def take() -> Sample:
        return Sample(at=time.time(), state="RUNNING")

    watch = RunWatch("v1 live", take, interval=0.01).start()
    assert watch.running
    fake = FakeStack(tmp_path)
    Workbench(stack=fake, auto_up=False).down()  # type: ignore[arg-type]
    assert not watch.running and watch.ended
    assert not any(t.name == "kappanb-watch-v1 live" for t in threading.enumerate())
