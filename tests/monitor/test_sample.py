"""Sampling a real replay: positions, heads and the derived gap, from Flink and Kafka."""

from __future__ import annotations

import time

import pytest

from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.kafka.positions import event_time_ms
from kappanb.monitor.history import RunHistory
from kappanb.monitor.sample import sample_run
from kappanb.stack.embedded import EmbeddedStack
from tests.magics.conftest import fresh_workbench

pytestmark = pytest.mark.integration

TOPIC = "monitor.payments.v1"
EVENTS = 60_000


def test_samples_of_a_live_run_show_the_gap_closing(stack: EmbeddedStack) -> None:
    workbench = fresh_workbench(stack)
    workbench.topic(TOPIC, PAYMENTS_SCHEMA, partitions=2, table="monitor_payments")
    workbench.produce(TOPIC, PaymentsGenerator(seed=41).events(EVENTS))
    workbench.job("monitored", "SELECT merchant_id, COUNT(*) AS n FROM monitor_payments "
                  "GROUP BY merchant_id")  # fmt: skip
    handle = workbench.run("monitored")
    endpoints = stack.endpoints()
    rest = FlinkRest(endpoints.flink_rest_url)
    history = RunHistory(window=5)
    run = handle.run
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        sample = sample_run(rest, endpoints.kafka, run.flink_job_id, run.group_id,
                            [TOPIC])  # fmt: skip
        history.add(sample)
        if sample.read_positions and sample.behind_total == 0:
            break
        time.sleep(0.5)
    committed: dict[int, int] = {}
    while time.monotonic() < deadline and sum(committed.values()) < EVENTS:
        time.sleep(0.5)  # the group's offsets are committed with the next checkpoint (2 s)
        late = sample_run(rest, endpoints.kafka, run.flink_job_id, run.group_id,
                          [TOPIC])  # fmt: skip
        committed = late.committed.get("monitor_payments_v1", {})
    workbench.stop("monitored", 1)
    assert committed == late.end_offsets["monitor_payments_v1"]  # Kafka agrees with Flink
    behind = [s.behind_total for s in history if s.read_positions]
    assert behind and behind[-1] == 0  # it read everything
    assert all(b <= EVENTS for b in behind)
    assert behind == sorted(behind, reverse=True)  # the gap only closes: nothing new arrives
    last = history.latest
    assert last is not None and sum(last.end_offsets["monitor_payments_v1"].values()) == EVENTS
    assert history.eta_seconds() == 0.0


def test_watch_sees_a_replay_catch_up_with_the_live_version(stack: EmbeddedStack) -> None:
    workbench = fresh_workbench(stack)
    topic = "watched.payments.v1"
    workbench.topic(topic, PAYMENTS_SCHEMA, partitions=2, table="watched_payments",
                    event_time="event_time", watermark="30 s")  # fmt: skip
    workbench.produce(topic, PaymentsGenerator(seed=42).events(EVENTS))
    sql = "SELECT merchant_id, COUNT(*) AS n FROM watched_payments GROUP BY merchant_id"
    workbench.job("watched", sql)
    workbench.run("watched")
    workbench.job("watched", sql + " HAVING COUNT(*) > 0")
    workbench.replay("watched", 2)
    watch = workbench.watch("watched", interval=0.5)
    try:
        assert watch.wait(timeout=150), str(watch)
        by_label = {r.watch.label: r.watch for r in watch.runs}
        assert set(by_label) == {"v1 live", "v2 replay"}
        assert by_label["v2 replay"].caught_up
        frame = watch.frame()
        assert set(frame["version"].unique()) == {"v1 live", "v2 replay"}
        newest = max(e["event_time"] for e in PaymentsGenerator(seed=42).events(EVENTS))
        assert event_time_ms(newest) in set(frame["head_event_ms"].drop_nulls().to_list())
        replay, live = (by_label[k].history.latest for k in ("v2 replay", "v1 live"))
        assert replay is not None and live is not None
        assert replay.event_time_lag_ms is not None and live.event_time_lag_ms is not None
        # Caught up in event time: no further behind the head than the live version, give
        # or take the watermark delay. (Both may trail the newest event: the watermark is
        # the minimum over partitions, and the producer fills one partition at a time.)
        assert replay.event_time_lag_ms <= live.event_time_lag_ms + 30_000
        assert frame.filter(frame["version"] == "v2 replay")["behind"].min() <= 1000
        spec = watch.chart().to_dict()
        assert len(spec["hconcat"]) == 3
        assert "v2 replay" in str(watch) and "caught up" in str(watch)
    finally:
        watch.stop()
        workbench.stop("watched", 1)
        workbench.stop("watched", 2)
    assert not any(r.watch.running for r in watch.runs)
