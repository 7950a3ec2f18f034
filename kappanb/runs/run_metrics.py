"""Figures of a run for `status`: records read, rows committed, checkpoints, malformed events.

Flink's own counters (``numRecordsOut`` of the sources, ``numRecordsIn`` of the sink)
start again at 0 whenever a job is restored (a TaskManager lost, `resume`, `down` then
`up`), so `status` takes both record figures from what survives a restore:

- **records read**: per source partition, the run's position minus the offset it started
  at, summed. The position is Flink's ``currentOffset`` + 1 where a reader reports it,
  and at least the group's committed offset (Flink commits its positions on every
  checkpoint and savepoint) once the run has a checkpoint of its own, or was resumed:
  a reader just restored reports -1 until it reads again. The start offset is found
  again from the run's ``--from``: the log's start (as the run recorded it when it began:
  retention may have moved it since), the offsets given, or the first record at a time
  (``latest``: at the run's start time, to the second). These are offsets, so a
  compacted topic's gaps count as read. After a crash the run goes back to
  its last checkpoint and reads on from there: the figure steps back to that checkpoint's,
  never below it, and never to 0.
- **rows committed**: the output table's ``total-records`` in its current Iceberg
  snapshot, i.e. the rows the run's checkpoints committed (trailing Flink by up to one
  checkpoint interval); an updating job counts every upserted row.

Malformed events are counted in the dead-letter topics (`kappanb.kafka.dead_letters`),
each topic read once for all runs, and only what was added since the last count when
``tallies`` (a folder of the home) keeps the counts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kappanb.core.positions import ReadRange
from kappanb.flink.rest import FlinkRest
from kappanb.kafka.connection import KafkaConnection
from kappanb.kafka.dead_letters import Malformed, malformed_counts
from kappanb.kafka.run_offsets import (
    Offsets,
    StartAt,
    group_offsets,
    head_offsets,
    offsets_of,
    start_offsets,
)
from kappanb.monitor.bounded_reads import BoundedRead, positions_with
from kappanb.monitor.sample import finished_sources, late_dropped
from kappanb.registry.records import RunRecord
from kappanb.runs.report import RunStatus
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.catalog import committed_rows

_OFFSET = re.compile(r"\.KafkaSourceReader\.topic\.(.+)\.partition\.(\d+)\.currentOffset$")


def run_statuses(
    rest: FlinkRest, runs: Sequence[RunRecord], endpoints: Endpoints,
    sources: Mapping[int, Sequence[str]] | None = None, tallies: Path | None = None,
    bounded: Mapping[int, Sequence[BoundedRead]] | None = None,
) -> list[RunStatus]:  # fmt: skip
    """`run_status` of each run (``sources``: per run id, the topics it reads; ``bounded``:
    those it reads up to a cut, `kappanb.monitor.bounded_reads`), with the malformed
    events each sent to its dead letters."""
    wanted = {r.id: r.dead_letter_topics for r in runs if r.dead_letter_topics}
    try:
        counts: dict[int, Malformed] | None = malformed_counts(
            endpoints.kafka, wanted, store=tallies
        )
    except Exception:
        counts = None  # Kafka unreachable: the counts show as unknown
    rows = []
    for r in runs:
        found = None if counts is None else counts.get(r.id, Malformed(0))
        status = run_status(
            rest, r, endpoints, (sources or {}).get(r.id, ()), (bounded or {}).get(r.id, ())
        )
        if found is not None:
            status = replace(status, malformed=found.count, malformed_exact=found.exact)
        rows.append(status)
    return rows


def run_status(
    rest: FlinkRest, run: RunRecord, endpoints: Endpoints, sources: Sequence[str] = (),
    bounded: Sequence[BoundedRead] = (),
) -> RunStatus:  # fmt: skip
    """Figures of an active run (records read, rows committed, checkpoints); blanks otherwise."""
    url = endpoints.job_url(run.flink_job_id)
    if not run.active:
        return RunStatus(run, url, None, None, (run.savepoint and "savepoint") or "")
    try:
        job = rest.job(run.flink_job_id)
        checkpoints = rest.checkpoints(run.flink_job_id)
    except Exception:
        return RunStatus(run, url, None, None, "?")
    latest = (checkpoints.get("latest") or {}).get("completed") or {}
    count = checkpoints.get("counts", {}).get("completed", 0)
    last = f"#{latest['id']} ({count} done)" if latest else "none yet"
    # A resumed run is a new Flink job; one Flink restored itself keeps its id.
    restored = bool(run.restored_from or (checkpoints.get("latest") or {}).get("restored"))
    vertices = job.get("vertices", [])
    positions = reported_positions(rest, run.flink_job_id, vertices)
    if positions is not None:  # a finished older topic version was read to its cut
        positions = positions_with(positions, bounded, finished_sources(vertices))
    read = records_read(
        endpoints.kafka, run, sources, positions, own_commits=count > 0,
        restored=restored,
    )  # fmt: skip
    try:
        written = committed_rows(endpoints.catalog, run.table)
    except Exception:
        written = None
    failing = endpoints.redact(_failing(rest, run))
    try:
        late = late_dropped(rest, run.flink_job_id, vertices)
    except Exception:  # Flink's metrics not there: no figure, as for the others
        late = None
    return RunStatus(run, url, read, written, last, failing=failing, late_dropped=late)


def records_read(
    connection: KafkaConnection, run: RunRecord, topics: Sequence[str], reported: Offsets | None,
    *,
    own_commits: bool, restored: bool,
) -> int | None:  # fmt: skip
    """Source offsets the run has passed since its start (see the module's docstring), or
    None when that is not known (yet).

    ``reported``: Flink's next offsets per topic as its metrics spell the topic. The
    group's offsets count once this Flink job has completed a checkpoint (``own_commits``):
    before that they may be an earlier run's (a live run's group outlives a --restart) or
    older than the savepoint (Flink does not commit on a savepoint). A partition that a
    ``restored`` job has not read yet, before its first checkpoint, is where the restore
    put it, which only Flink's state knows: the figure is then None, not a guess."""
    if not topics or reported is None:
        return None
    try:
        starts = start_offsets(connection, list(topics), start_at(run))
        recorded = offsets_of(run.first_offsets)  # the log's start when the run began
        starts = {t: recorded.get(t, found) for t, found in starts.items()}
        committed = group_offsets(connection, run.group_id, list(topics)) if own_commits else {}
        passed = offsets_passed(starts, reported, committed, restored)
        if passed is None and restored:  # unless the unknown partitions had nothing to read
            heads = head_offsets(connection, list(topics))
            passed = offsets_passed(starts, reported, committed, restored, heads)
    except Exception:
        return None
    return passed


def offsets_passed(
    starts: Offsets, reported: Offsets, committed: Offsets, restored: bool,
    heads: Offsets | None = None,
) -> int | None:  # fmt: skip
    """Sum over partitions of the furthest known position minus the start (`records_read`).

    A partition a restored job has neither reported nor committed is known only when it
    had nothing to read: its head (``heads``) is where the run started. An empty
    partition is never committed, so without this a topic with one would stay unknown."""
    total = 0
    for topic, parts in starts.items():
        flink, done = reported.get(topic.replace(".", "_"), {}), committed.get(topic, {})
        head = (heads or {}).get(topic, {})
        for partition, first in parts.items():
            known = [o for o in (flink.get(partition), done.get(partition)) if o is not None]
            if not known and restored:
                if head.get(partition) != first:
                    return None
                known = [first]
            total += max(0, max(known, default=first) - first)
    return total


def start_at(run: RunRecord) -> StartAt:
    """Where the run began, from its ``--from`` (``latest``: its start time)."""
    options = ReadRange(run.start).source_options()
    mode = options.get("scan.startup.mode")  # none for --from archive: its first_offsets
    if mode == "specific-offsets":
        pairs = [part.split(",") for part in options["scan.startup.specific-offsets"].split(";")]
        return StartAt(offsets={int(p[10:]): int(o[7:]) for p, o in pairs})
    if mode == "timestamp":
        return StartAt(millis=int(options["scan.startup.timestamp-millis"]))
    if mode == "latest-offset":
        began = datetime.strptime(run.started_at, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
        return StartAt(millis=int(began.timestamp() * 1000))
    return StartAt()


def reported_positions(
    rest: FlinkRest, job_id: str, vertices: list[dict[str, Any]]
) -> Offsets | None:
    """Per topic (as Flink spells it) and partition, the next offset Flink's readers
    report (a reader reports -1 for a partition it has not read since it was restored:
    left out); None when Flink could not be asked."""
    found: Offsets = {}
    try:
        for vertex in vertices:
            if not str(vertex.get("name", "")).startswith("Source:"):
                continue
            names = [n for n in rest.vertex_metric_names(job_id, vertex["id"]) if _OFFSET.search(n)]
            # A partition is read by one subtask: the others do not report it, so max is its value.
            for name, value in rest.vertex_metrics(job_id, vertex["id"], names, "max").items():
                if value >= 0 and (match := _OFFSET.search(name)):
                    found.setdefault(match[1], {})[int(match[2])] = int(value) + 1
    except Exception:
        return None
    return found


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
