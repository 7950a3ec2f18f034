"""A watch's caught-up verdict is recorded for the other processes of its home (no I/O:
the watch samples a script, not Flink or Kafka)."""

from __future__ import annotations

import time
from pathlib import Path

from kappanb.kafka.connection import KafkaConnection
from kappanb.monitor.history import CaughtUp
from kappanb.monitor.sample import Sample
from kappanb.monitor.verdicts import CaughtUpVerdicts
from kappanb.monitor.watch_set import watch_runs
from kappanb.registry.records import RunRecord, TopicSpec
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.catalog import CatalogLocation

T = "t"


def test_a_verdict_is_per_run_and_flink_job(tmp_path: Path) -> None:
    verdicts = CaughtUpVerdicts(tmp_path / "caught-up")
    assert not verdicts.said(3, "a" * 32)
    verdicts.record(3, "a" * 32)
    assert verdicts.said(3, "a" * 32)
    assert not verdicts.said(3, "b" * 32)  # resumed as another Flink job: judged afresh


def test_a_watch_records_its_verdict_when_the_run_catches_up(tmp_path: Path) -> None:
    endpoints = Endpoints(
        KafkaConnection.plain("127.0.0.1:1"), "http://127.0.0.1:1",
        CatalogLocation("kappanb", tmp_path / "catalog.db", tmp_path / "warehouse"),
        tmp_path / "lib",
    )  # fmt: skip
    run = RunRecord(4, "daily", 1, "live", "daily__v1", "g", "earliest", None, "f" * 32,
                    "RUNNING", "")  # fmt: skip
    verdicts = CaughtUpVerdicts(tmp_path / "caught-up")
    watches = watch_runs("daily", [run], {1: [TopicSpec(T, T, ())]}, None,  # type: ignore[arg-type]
                         endpoints, interval=0.01, samplers=None, verdicts=verdicts)  # fmt: skip
    (watched,) = watches.runs
    watch = watched.watch
    watch.rule = CaughtUp(hold=2)
    watch._take = lambda: Sample(
        at=time.time(), state="RUNNING", read_positions={T: {0: 5}}, end_offsets={T: {0: 5}}
    )  # fmt: skip  (scripted: no I/O)
    assert not verdicts.said(4, "f" * 32)
    watches.start()
    try:
        assert watch.wait(5) and watch.caught_up
        deadline = time.monotonic() + 5
        while not verdicts.said(4, "f" * 32) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert verdicts.said(4, "f" * 32)
    finally:
        watches.stop()
