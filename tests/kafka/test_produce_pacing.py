from __future__ import annotations

import threading
import time

import pytest

from kappanb.exceptions import SettingsError
from kappanb.generators import PaymentsGenerator
from kappanb.kafka.connection import KafkaConnection
from kappanb.kafka.produce import Pacer, produce_json
from kappanb.kafka.topics import create_topic, end_offsets
from kappanb.stack.endpoints import Endpoints


@pytest.mark.parametrize("rate", [0, -5.0, float("nan")])
def test_a_rate_that_is_not_positive_is_refused_before_connecting(rate: float) -> None:
    with pytest.raises(SettingsError, match="rate is events per second"):
        produce_json(KafkaConnection.plain("127.0.0.1:1"), "any.v1", [{"a": 1}], rate=rate)


def test_pacer_spaces_waits_and_polls_meanwhile() -> None:
    polls: list[float] = []

    def poll(seconds: float) -> None:
        polls.append(seconds)
        time.sleep(seconds)

    pacer = Pacer(100.0, poll)
    began = time.monotonic()
    assert all(pacer.wait() for _ in range(21))
    assert 0.19 <= time.monotonic() - began < 1.0
    assert polls and max(polls) <= 0.05


def test_pacer_returns_at_once_when_stopped() -> None:
    stop = threading.Event()
    pacer = Pacer(0.1, time.sleep, stop)
    assert pacer.wait()  # the first slot is now
    stop.set()
    began = time.monotonic()
    assert not pacer.wait()
    assert time.monotonic() - began < 0.1


@pytest.mark.integration
def test_paced_produce_takes_its_time_and_delivers_everything(endpoints: Endpoints) -> None:
    kafka = endpoints.kafka
    create_topic(kafka, "produce.paced.v1", partitions=2)
    began = time.monotonic()
    events = PaymentsGenerator(live=True).events(100)
    result = produce_json(kafka, "produce.paced.v1", events, key="merchant_id", rate=200)
    assert time.monotonic() - began >= 0.4
    assert result.delivered == 100
    assert sum(end_offsets(kafka, "produce.paced.v1").values()) == 100


@pytest.mark.integration
def test_a_background_stream_stops_cleanly(endpoints: Endpoints) -> None:
    kafka = endpoints.kafka
    create_topic(kafka, "produce.stopped.v1")
    stop = threading.Event()
    results = []
    thread = threading.Thread(
        target=lambda: results.append(
            produce_json(kafka, "produce.stopped.v1", iter(PaymentsGenerator()), rate=50, stop=stop)
        )
    )
    thread.start()
    time.sleep(1.0)
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    (result,) = results
    assert 20 <= result.delivered <= 80
    assert sum(end_offsets(kafka, "produce.stopped.v1").values()) == result.delivered
