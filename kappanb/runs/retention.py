"""A topic's retention report (`RetentionReport`) from Kafka, the registry and Flink, and
the one check that refuses a replay whose start needs records retention deleted.

Replay throughput is measured, never assumed: for the newest replay run of each job
version that reads the topic and that Flink still knows, the records it read from the
topic over the time Flink ran it. Records read are offsets passed since its start, as
`status` counts them while it runs; a finished bounded replay read up to its end (for
``--until latest`` the heads it recorded when it started). Flink's time of a finished
job includes its final checkpoint, so a short replay's throughput errs low. A replay's
Flink job that the cluster forgot (it was restarted) cannot be measured.

A replay from the archive read the rows of the archive's snapshot it pinned (`snapshot
rows`: as many as its summary counts) and then the log from its handoffs: its records
read are both. The archive's count once its side is read, i.e. the job finished or
Flink's source vertex of the archive did; while it is still reading the archive (or the
snapshot has expired since) the run is not measured: a tail-only figure over the job's
whole time would understate it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kappanb.core.positions import EARLIEST_AVAILABLE, ReadRange
from kappanb.exceptions import HistoryGoneError
from kappanb.flink.rest import FlinkRest
from kappanb.history.archive_replay import handoffs_of
from kappanb.history.retention_report import ArchiveCoverage, ReplayRate, RetentionReport, moment
from kappanb.kafka.connection import KafkaConnection
from kappanb.kafka.log_extent import LogExtent, log_extent
from kappanb.kafka.run_offsets import StartAt, offsets_of, start_offsets
from kappanb.registry.base import Registry
from kappanb.registry.records import ACTIVE_STATES, JobVersion, RunRecord, TopicSpec
from kappanb.runs.run_metrics import records_read, reported_positions, start_at
from kappanb.tables.archive_coverage import archive_holding, snapshot_rows
from kappanb.tables.catalog import Catalog, table_exists
from kappanb.versions.archive_ddl import archive_table
from kappanb.versions.archive_source import history_table

Gap = tuple[int, int, int]
"""A partition, the first offset a replay needs there and the first offset it still has."""


def retention_report(
    registry: Registry, rest: FlinkRest, kafka: KafkaConnection, topic: TopicSpec,
    window_ms: int = 3_600_000, extent: LogExtent | None = None,
    catalog: Catalog | None = None,
) -> RetentionReport:  # fmt: skip
    """The report of ``topic`` now (``extent``: its log, if just read); growth is measured
    over the last ``window_ms``; what its archive holds is read from ``catalog``."""
    extent = extent or log_extent(kafka, topic.name, window_ms)
    rates, why = replay_rates(registry, rest, kafka, topic, catalog)
    return RetentionReport(extent, archive_covered(catalog, topic), rates, why)


def archive_covered(catalog: Catalog | None, topic: TopicSpec) -> ArchiveCoverage:
    """What the topic's archive holds, per partition (offsets a deletion request took out
    count as held: `archive_coverage`); no archive when it has no table (or no catalog
    was given)."""
    table = archive_table(topic)
    if catalog is None or not table_exists(catalog, table):
        return ArchiveCoverage()
    return ArchiveCoverage.of_ranges(*archive_holding(catalog, table))


def replay_rates(
    registry: Registry, rest: FlinkRest, kafka: KafkaConnection, topic: TopicSpec,
    catalog: Catalog | None = None,
) -> tuple[list[ReplayRate], str]:  # fmt: skip
    """The measured replays of the topic's job versions, or why there is none (``catalog``:
    where a replay from the archive read it)."""
    readers = {(v.job, v.version) for v in registry.versions() if topic.name in v.sources}
    if not readers:
        return [], "no job reads this topic"
    replays = [r for r in registry.runs(None)
               if r.mode == "replay" and (r.job, r.version) in readers]  # fmt: skip
    if not replays:
        return [], "no replay of a job reading it has run yet"
    newest: dict[tuple[str, int], RunRecord] = {}
    for run in replays:  # in id order: the last one of each version stays
        newest[(run.job, run.version)] = run
    rates = [r for run in newest.values() if (r := _measured(rest, kafka, run, topic, catalog))]
    if not rates:
        return [], (
            "its replays' Flink jobs are gone from the cluster, have read nothing yet, or are "
            "still reading the archive"
        )
    return rates, ""


def _measured(
    rest: FlinkRest, kafka: KafkaConnection, run: RunRecord, spec: TopicSpec,
    catalog: Catalog | None,
) -> ReplayRate | None:  # fmt: skip
    topic = spec.name
    try:
        job = rest.job(run.flink_job_id)
    except Exception:
        return None
    state = str(job.get("state", "?"))
    if state == "FINISHED" and run.until is not None:
        read: int | None = bounded_read(kafka, run, topic)
    else:  # running: how far it is; stopped or failed: its last checkpoint's offsets
        vertices = job.get("vertices", [])
        running = state in ACTIVE_STATES
        reported = reported_positions(rest, run.flink_job_id, vertices) if running else {}
        read = records_read(kafka, run, [topic], reported, own_commits=True,
                            restored=bool(run.restored_from))  # fmt: skip
    archived = archive_read(catalog, run, spec, job)
    seconds = float(job.get("duration", 0)) / 1000
    if archived is None or not (read or archived) or seconds <= 0:
        return None
    total = (read or 0) + archived
    return ReplayRate(run.job, run.version, run.id, state, total, seconds, archived)


def archive_read(
    catalog: Catalog | None, run: RunRecord, topic: TopicSpec, job: Mapping[str, Any]
) -> int | None:
    """The archive's rows a replay read of ``topic`` (``job``: its Flink job's details): 0
    for a run that did not read it from the archive; None while it is still reading it or
    when its snapshot's rows are not known (see the module's docstring)."""
    handoff = handoffs_of(run).get(topic.name)
    if handoff is None:
        return 0
    if catalog is None or not archive_side_done(job, topic):
        return None
    return snapshot_rows(catalog, archive_table(topic), handoff.snapshot_id)


def archive_side_done(job: Mapping[str, Any], topic: TopicSpec) -> bool:
    """Whether Flink has read the whole archive side: the job finished, or the source
    vertex that reads the archive did (its name holds the table's, then ``[`` or a space)."""
    if job.get("state") == "FINISHED":
        return True
    name = re.compile(rf"\b{re.escape(history_table(topic))}\b")
    return any(
        str(v.get("name", "")).startswith("Source:")
        and name.search(str(v.get("name", "")))
        and v.get("status") == "FINISHED"
        for v in job.get("vertices", [])
    )


def bounded_read(kafka: KafkaConnection, run: RunRecord, topic: str) -> int | None:
    """What a finished bounded replay read of ``topic``: from where it began to where its
    ``--until`` ended it. (Its consumer group has only its last checkpoint's offsets.)"""
    ends = offsets_of(run.end_offsets).get(topic)
    if ends is None and run.until != "latest":
        until = int(ReadRange(until=run.until).source_options()["scan.bounded.timestamp-millis"])
        ends = start_offsets(kafka, [topic], StartAt(millis=until)).get(topic)
    starts = offsets_of(run.first_offsets).get(topic)
    if starts is None:
        starts = start_offsets(kafka, [topic], start_at(run)).get(topic, {})
    if ends is None:
        return None
    return sum(max(0, end - starts.get(p, end)) for p, end in ends.items())


# ---- the check before a replay starts ---------------------------------------------------
def check_history(
    registry: Registry, rest: FlinkRest, kafka: KafkaConnection, job_version: JobVersion,
    topics: Sequence[TopicSpec], rng: ReadRange, catalog: Catalog | None = None,
) -> None:  # fmt: skip
    """Refuse a replay whose start needs records the log no longer has: it would start at
    the first record left, silently leaving out the history before it."""
    if rng.start in (EARLIEST_AVAILABLE, "latest") or rng.from_archive:
        return  # a replay from the archive checks the archive meets the log instead
    for topic in topics:
        extent = log_extent(kafka, topic.name)
        gaps = history_gaps(extent, needed_offsets(kafka, extent, rng))
        if gaps:
            report = retention_report(registry, rest, kafka, topic, extent=extent,
                                      catalog=catalog)  # fmt: skip
            raise HistoryGoneError(refusal(job_version, rng, report, gaps))


def needed_offsets(kafka: KafkaConnection, extent: LogExtent, rng: ReadRange) -> dict[int, int]:
    """Per partition, the first offset a replay from ``rng.start`` needs the log to have."""
    if rng.start == "earliest":
        return {p.partition: 0 for p in extent.partitions}
    options = rng.source_options()
    if rng.uses_offsets():  # the partitions not named start at the log's start
        given = dict(pair.split(":") for pair in rng.start.split(","))
        return {p.partition: int(given.get(str(p.partition), 0)) for p in extent.partitions}
    millis = int(options["scan.startup.timestamp-millis"])
    # Records at or after `millis` within the retention time are never deleted by it; a
    # partition whose first record left is at or before `millis` lost nothing after it.
    # (A log kept forever that lost its start lost it otherwise: no time is known kept.)
    kept = extent.retention_ms > 0 and millis >= extent.at_ms - extent.retention_ms
    firsts = start_offsets(kafka, [extent.topic], StartAt(millis=millis))[extent.topic]
    return {
        p.partition: firsts[p.partition]
        if kept or (p.earliest_ms is not None and p.earliest_ms <= millis)
        else 0
        for p in extent.partitions
        if firsts.get(p.partition) == p.earliest
    }


def history_gaps(extent: LogExtent, needed: dict[int, int]) -> list[Gap]:
    """The partitions where a needed offset is below the first one still in the log."""
    return [
        (p.partition, needed[p.partition], p.earliest)
        for p in extent.partitions
        if p.partition in needed and needed[p.partition] < p.earliest
    ]


def refusal(
    job_version: JobVersion, rng: ReadRange, report: RetentionReport, gaps: list[Gap]
) -> str:
    """Why the replay is refused, the report, and the ways out."""
    name = f"{job_version.job} {job_version.label}"
    where = "; ".join(
        f"partition {p} from offset {needed}, but its log starts at {earliest}"
        for p, needed, earliest in gaps
    )
    firsts = [p.earliest_ms for p in report.extent.partitions if not p.from_zero and p.earliest_ms]
    since = (
        [f"- `replay {name} --from {moment(max(firsts))}`: from the first record every "
         "partition still has, a history that starts then"]
        if firsts else []
    )  # fmt: skip
    return "\n".join([
        f"replay {name} --from {rng.start} needs records of {report.topic} that retention "
        f"deleted ({where}). Nothing was started: a replay never starts silently at the "
        "first record left.",
        "", str(report), "", "Ways out:", *since,
        f"- `replay {name} --from {EARLIEST_AVAILABLE}`: each partition from its first "
        "record left, accepting that the history before it is gone",
        f"- `replay {name} --from archive`: the history from the archive of {report.topic}, "
        "if it read the deleted records before they went (`archive TOPIC` starts one: it "
        "can read only what the log still has)",
    ])  # fmt: skip
