"""For `status`: which active runs have read everything while a partition holds their
watermark below what their data closes (`kappanb.monitor.holds`), said per run; such a
run's topic clock gets a heartbeat, as a watch would send (`kappanb.monitor.release`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kappanb.flink.rest import FlinkRest
from kappanb.kafka.connection import KafkaConnection
from kappanb.monitor.history import sample_hold
from kappanb.monitor.release import release_hold
from kappanb.monitor.sample import sample_run
from kappanb.registry.records import RunRecord, TopicSpec

BEHIND_AT_MOST = 1000
"""Records a run may have left to read and count as having read everything (as `watch`)."""


def run_holds(
    rest: FlinkRest, connection: KafkaConnection, runs: Sequence[RunRecord],
    sources: Mapping[int, Sequence[TopicSpec]],
) -> dict[int, str]:  # fmt: skip
    """Per active, unbounded run id whose watermark is held: what holds it. One sample each
    (Flink's figures and the last record of each partition); a run that cannot be sampled
    is left out (its row says what Flink reports)."""
    held: dict[int, str] = {}
    for run in runs:
        topics = [t for t in sources.get(run.id, ()) if t.event_time and not t.compact]
        if not run.active or run.until is not None or not topics or not run.flink_job_id:
            continue
        try:
            sample = sample_run(
                rest, connection, run.flink_job_id, run.group_id, [t.name for t in topics],
                {t.name: t.event_time for t in topics if t.event_time},
            )  # fmt: skip
        except Exception:
            continue
        hold = sample_hold(sample, {t.name: t.watermark_ms for t in topics})
        if hold is not None and sample.state == "RUNNING" and sample.behind_total <= BEHIND_AT_MOST:
            held[run.id] = str(hold)
            release_hold(connection, topics, hold, sample)
    return held
