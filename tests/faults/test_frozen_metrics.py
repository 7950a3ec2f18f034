"""Flink's REST API serves metrics from a store its JobManager refreshes only when its wall
clock has moved on since the last refresh: after the clock steps back, every position,
watermark and rate stays frozen for as long as the step. A live run must still be seen to
catch up, and `wait()` after `produce` must still mean its records are in the output.

The freeze is made here without touching the clock: the fault stack's Flink is started again
with a refresh interval of an hour, so its store keeps what its first refresh saw. Nothing
asks for metrics until the run has committed its first part; then the first refresh holds
positions that the second part leaves behind, as a clock step would."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from confluent_kafka import KafkaException

from kappanb.flink.rest import FlinkRest
from kappanb.kafka.run_offsets import group_offsets
from kappanb.monitor.history import metric_topic
from kappanb.monitor.sample import flink_figures
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.faults.recovery import kill, record
from tests.faults.test_live_run_faults import LiveRun

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]

FROZEN = {"metrics.fetcher.update-interval": 3_600_000}  # ms: one refresh, then none


def test_with_flinks_metrics_frozen_a_live_run_still_catches_up_and_waits_exactly(
    fault_stack: EmbeddedStack, fault_wb: Workbench
) -> None:
    frozen = EmbeddedStack(replace(fault_stack.settings, flink_overrides=FROZEN))
    kill(fault_stack, "flink-taskmanager")  # a new one registers once, with the new JobManager
    kill(fault_stack, "flink-jobmanager")
    try:
        frozen.up()  # a JobManager whose metric store will not refresh again
        wb = Workbench(replace(frozen.settings, checkpoint_interval="1 s"), auto_up=False)
        live = LiveRun(wb, "frozen", seed=93)
        live.produce_part()
        handle = wb.run(live.job, watch=False)
        group = handle.run.group_id
        deadline = time.monotonic() + 180
        while committed_total(frozen, group, live.topic) < len(live.events):
            assert time.monotonic() < deadline, "the run never committed its first part"
            time.sleep(0.2)
        assert handle.wait(timeout=180), handle.run_state  # its first sample: the one refresh
        live.wait_exact()
        rest = FlinkRest(frozen.endpoints().flink_rest_url)
        job_id = handle.run.flink_job_id
        deadline = time.monotonic() + 60
        while sum(reported_positions(rest, job_id, live.topic).values()) < len(live.events):
            assert time.monotonic() < deadline, "Flink's one refresh never showed the positions"
            time.sleep(0.2)
        began = time.monotonic()
        live.produce_part()
        assert handle.wait(timeout=180), f"wait() gave up: {handle.run_state}"
        waited = time.monotonic() - began
        live.wait_exact(timeout=5)  # what wait() said: the new records are in the output
        # ... and every view says so: the cell's heading and the panel's row.
        heading = handle.heading()
        assert heading.endswith("caught up") and "catching" not in heading, heading
        (view,) = [v.run for j in wb.overview().jobs if j.name == live.job
                   for v in j.versions if v.run is not None]  # fmt: skip
        assert view.behind is not None and view.behind <= 1000, view
        assert view.progress == "caught up", view

        # The freeze was real: Flink still reports the positions of the first part only,
        # which the group's commits (made by this job's checkpoints) have passed.
        reported = sum(reported_positions(rest, job_id, live.topic).values())
        assert committed_total(frozen, group, live.topic) == len(live.events)
        assert reported == len(live.events) // 2, reported
        record("Flink's REST metrics frozen (as after the clock stepped back)", "1/1", waited,
               f"wait() returned on the group's commits; Flink still reported {reported:,} "
               f"of {len(live.events):,} read; output exact")  # fmt: skip
    finally:
        # The next tests get the stack's own Flink (the fixture starts it again).
        kill(frozen, "flink-taskmanager")
        kill(frozen, "flink-jobmanager")


def committed_total(stack: EmbeddedStack, group: str, topic: str) -> int:
    try:
        return sum(group_offsets(stack.endpoints().kafka, group, [topic]).get(topic, {}).values())
    except KafkaException:  # no coordinator for the new group yet: nothing committed
        return 0


def reported_positions(rest: FlinkRest, job_id: str, topic: str) -> dict[int, int]:
    """The next offsets Flink's REST API reports for the run's partitions of ``topic``."""
    return dict(flink_figures(rest, job_id)["positions"].get(metric_topic(topic), {}))
