"""Figures of a run from Flink's REST API: records read and written, checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from kappanb.flink.rest import FlinkRest
from kappanb.jobs.report import RunStatus
from kappanb.kafka.dead_letters import malformed_counts
from kappanb.registry.records import RunRecord
from kappanb.stack.endpoints import Endpoints


def run_statuses(
    rest: FlinkRest, runs: Sequence[RunRecord], endpoints: Endpoints
) -> list[RunStatus]:
    """`run_status` of each run, with the malformed events each sent to its dead letters."""
    wanted = {r.id: r.dead_letter_topics for r in runs if r.dead_letter_topics}
    try:
        counts: dict[int, int] | None = malformed_counts(endpoints.bootstrap_servers, wanted)
    except Exception:
        counts = None  # Kafka unreachable: the counts show as unknown
    return [
        replace(
            run_status(rest, r, endpoints),
            malformed=None if counts is None else counts.get(r.id, 0),
        )
        for r in runs
    ]


def run_status(rest: FlinkRest, run: RunRecord, endpoints: Endpoints) -> RunStatus:
    """Live figures of an active run from Flink (records and checkpoints); blanks otherwise."""
    url = endpoints.job_url(run.flink_job_id)
    if not run.active:
        return RunStatus(run, url, None, None, (run.savepoint and "savepoint") or "")
    try:
        job = rest.job(run.flink_job_id)
        checkpoints = rest.checkpoints(run.flink_job_id)
    except Exception:
        return RunStatus(run, url, None, None, "?")
    records_in, records_out = _records(rest, run.flink_job_id, job.get("vertices", []))
    latest = (checkpoints.get("latest") or {}).get("completed") or {}
    count = checkpoints.get("counts", {}).get("completed", 0)
    last = f"#{latest['id']} ({count} done)" if latest else "none yet"
    return RunStatus(run, url, records_in, records_out, last, failing=_failing(rest, run))


def _failing(rest: FlinkRest, run: RunRecord) -> str:
    """ "restarted 3 times, last because: ..." for a run Flink keeps restarting; else ""."""
    try:
        restarts = rest.restarts(run.flink_job_id)
        if not restarts:
            return ""
        cause = rest.root_exception(run.flink_job_id).strip().splitlines()
    except Exception:
        return ""
    times = "once" if restarts == 1 else f"{restarts} times"
    return f"Flink restarted it {times} from its last checkpoint; last cause: " + (
        cause[0] if cause else "unknown"
    )


def _records(
    rest: FlinkRest, job_id: str, vertices: list[dict[str, Any]]
) -> tuple[int | None, int | None]:
    """Records the Kafka sources emitted (all source operators) and the sink task received."""
    if not vertices:
        return None, None
    try:
        read = 0.0
        for vertex in vertices:
            if str(vertex.get("name", "")).startswith("Source:"):
                emitted = [
                    name for name in rest.vertex_metric_names(job_id, vertex["id"])
                    if name.startswith("Source__") and name.endswith(".numRecordsOut")
                ]  # fmt: skip
                read += sum(rest.vertex_metrics(job_id, vertex["id"], emitted).values())
        written = rest.vertex_metrics(job_id, vertices[-1]["id"], ["numRecordsIn"])
    except Exception:
        return None, None
    return int(read), int(written.get("numRecordsIn", 0))
