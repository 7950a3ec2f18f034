"""One sample of a run: what Flink's REST API and Kafka say about it at one moment.

Records behind the head are per partition: the log's end offset minus the next offset
the run will read (Flink's ``currentOffset`` metric is the last record it read).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kappanb.flink.rest import FlinkRest
from kappanb.kafka.connection import KafkaConnection
from kappanb.monitor.holds import has_event_time_operators
from kappanb.registry.kinds import FlinkJobState, flink_job_state

if TYPE_CHECKING:
    from kappanb.monitor.bounded_reads import BoundedRead

_OFFSET = re.compile(r"\.KafkaSourceReader\.topic\.(.+)\.partition\.(\d+)\.currentOffset$")
_SOURCE_RATE = re.compile(r"^Source__.*\.numRecordsOutPerSecond$")


@dataclass(frozen=True)
class Sample:
    """What one run looked like at ``at`` (seconds since the epoch)."""

    at: float
    state: FlinkJobState | Literal["UNKNOWN"]
    """Flink's state of the job; UNKNOWN when its answer named none."""
    records_in_per_s: float = 0.0
    records_out_per_s: float = 0.0
    watermark_ms: int | None = None
    checkpoints: int = 0
    last_checkpoint_ms: int | None = None
    pending_records: int | None = None
    read_positions: dict[str, dict[int, int]] = field(default_factory=dict)
    """Per topic and partition: the next offset the run will read."""
    end_offsets: dict[str, dict[int, int]] = field(default_factory=dict)
    committed: dict[str, dict[int, int]] = field(default_factory=dict)
    """Per topic and partition: the consumer group's committed offset in Kafka (Flink
    commits on each checkpoint, so this trails ``read_positions``)."""
    head_event_ms: int | None = None
    """The newest event time at the head of the log (of the topics it reads), if known."""
    partition_event_ms: dict[str, dict[int, int]] = field(default_factory=dict)
    """Per topic (as named in Kafka) with an event time, and per non-empty partition: the
    event time of the partition's last record."""
    event_time_operators: bool = False
    """The job's plan has operators that emit on watermarks (`kappanb.monitor.holds`)."""
    operator_watermark_ms: int | None = None
    """The lowest watermark those operators have received (`NO_WATERMARK`: none yet; None:
    no such operator outside the sources' chain); what decides which windows have fired."""
    malformed: int | None = None
    """Distinct malformed events the run sent to its dead-letter topics (None: fails fast)."""
    late_dropped: int | None = None
    """Records its window operators dropped as late (Flink's ``numLateRecordsDropped``,
    summed; with two-phase aggregation one is a partial aggregate of several events);
    None when its plan has no such operator."""
    finished_sources: tuple[str, ...] = ()
    """The names of the job's source vertices that have finished (a bounded source, as
    `kappanb.monitor.bounded_reads` reads: the older version of a followed topic)."""
    clock: float | None = None
    """``time.monotonic()`` when it was taken. The wall clock (``at``) can step, back or
    forward (NTP, a laptop waking up), so rates, the ETA and the charts' time axis count
    from this; a sample made without it (by hand) counts from ``at``."""

    @property
    def tick(self) -> float:
        """Seconds on a clock that does not step: `clock`, else `at`."""
        return self.at if self.clock is None else self.clock

    @property
    def event_time_lag_ms(self) -> int | None:
        """The head's newest event time minus the run's watermark."""
        if self.head_event_ms is None or self.watermark_ms is None:
            return None
        return max(0, self.head_event_ms - self.watermark_ms)

    def positions(self) -> dict[str, dict[int, int]]:
        """Per topic and partition, where the run reads next: Flink's position, else the
        group's committed offset; once this Flink job has completed two checkpoints,
        whichever of the two is further.

        Flink's position is as old as the JobManager's metric store, which stops
        refreshing while its wall clock is behind its last refresh (a clock stepped back)
        or while it waits on a dead TaskManager. The group's offset is fresh from Kafka
        and, once this job has committed it, never ahead of the truth (it commits what a
        completed checkpoint holds). Before that it may be an earlier run's (a live run's
        group outlives a --restart), so it only stands in for a position Flink lacks. Two
        checkpoints, because Flink commits the first one's offsets after reporting it."""
        own_commits = self.checkpoints >= 2
        found: dict[str, dict[int, int]] = {}
        for topic in self.read_positions.keys() | self.committed.keys():
            read, committed = self.read_positions.get(topic, {}), self.committed.get(topic, {})
            merged = {**committed, **read}
            if own_commits:
                merged = {p: max(read.get(p, 0), committed.get(p, 0)) for p in merged}
            found[topic] = merged
        return found

    def read_to_heads(self) -> bool:
        """Has this Flink job itself read every partition up to the heads sampled? Only its
        own positions count: Flink's (sampled before the heads, and only ever late), or the
        group's commits once this job has made them (see `positions`). A group's offset
        from an earlier run, or a partition the job has no position for, is not read. What
        a heartbeat to the topic's clock waits for (`kappanb.monitor.release`): "behind by
        at most a few records" is not enough, as those records would come after it, late."""
        own_commits = self.checkpoints >= 2
        for topic, ends in self.end_offsets.items():
            read = self.read_positions.get(topic, {})
            committed = self.committed.get(topic, {}) if own_commits else {}
            for partition, end in ends.items():
                if max(read.get(partition, 0), committed.get(partition, 0)) < end:
                    return False
        return True

    def behind(self) -> dict[tuple[str, int], int]:
        """Records between the run's position (`positions`) and the head, per (topic,
        partition)."""
        result = {}
        positions = self.positions()
        for topic, ends in self.end_offsets.items():
            read = positions.get(topic, {})
            for partition, end in ends.items():
                result[(topic, partition)] = max(0, end - read.get(partition, 0))
        return result

    @property
    def behind_total(self) -> int:
        return sum(self.behind().values())


_LAST_EVENT_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
NO_WATERMARK = -(2**63)
"""`Sample.operator_watermark_ms` of operators that have received no watermark yet."""


def finished_sources(vertices: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The names of the job's source vertices that have FINISHED (a bounded source)."""
    return tuple(
        str(v.get("name", ""))
        for v in vertices
        if str(v.get("name", "")).startswith("Source:") and v.get("status") == "FINISHED"
    )


def flink_figures(rest: FlinkRest, job_id: str) -> dict[str, Any]:
    """Rates, watermark, checkpoints and read positions of a running Flink job."""
    job = rest.job(job_id)
    vertices: list[dict[str, Any]] = job.get("vertices", [])
    figures: dict[str, Any] = {
        "state": flink_job_state(str(job["state"])) if "state" in job else "UNKNOWN",
        "positions": {},
        "event_time_operators": has_event_time_operators(str(v.get("name", "")) for v in vertices),
        "finished_sources": finished_sources(vertices),
    }
    rate_in, pending, watermarks = 0.0, None, []
    for vertex in vertices:
        if not str(vertex.get("name", "")).startswith("Source:"):
            continue
        names = rest.vertex_metric_names(job_id, vertex["id"])
        offsets = [n for n in names if _OFFSET.search(n)]
        # A partition is read by one subtask: the others do not report it, so max is its value.
        for name, value in rest.vertex_metrics(job_id, vertex["id"], offsets, "max").items():
            # -1: the reader has not read the partition yet (e.g. just restored from a
            # checkpoint); the group's committed offset stands in for it meanwhile.
            if value >= 0 and (found := _OFFSET.search(name)):
                topic = found.group(1)
                figures["positions"].setdefault(topic, {})[int(found.group(2))] = int(value) + 1
        summed = [n for n in names if _SOURCE_RATE.match(n) or n.endswith(".pendingRecords")]
        for name, value in rest.vertex_metrics(job_id, vertex["id"], summed).items():
            if name.endswith(".pendingRecords"):
                pending = int(value) + (pending or 0)
            else:
                rate_in += value
        marks = [n for n in names if n.endswith(".currentOutputWatermark")]
        for value in rest.vertex_metrics(job_id, vertex["id"], marks, "min").values():
            # Before the first watermark Flink reports Long.MIN_VALUE, at the end of a
            # bounded input Long.MAX_VALUE (as a float): neither is an event time.
            if 0 < value <= _LAST_EVENT_MS:
                watermarks.append(int(value))
    figures["operator_watermark"] = _operator_watermark(rest, job_id, vertices)
    figures["late_dropped"] = late_dropped(rest, job_id, vertices)
    if vertices:
        sink = rest.vertex_metrics(job_id, vertices[-1]["id"], ["numRecordsInPerSecond"])
        figures["rate_out"] = sink.get("numRecordsInPerSecond", 0.0)
    figures.update(rate_in=rate_in, pending=pending, watermark=min(watermarks, default=None))
    return figures


def _operator_watermark(rest: FlinkRest, job_id: str, vertices: list[dict[str, Any]]) -> int | None:
    """The lowest input watermark of the (non-source) vertices with event-time operators."""
    marks: list[int] = []
    for vertex in vertices:
        name = str(vertex.get("name", ""))
        if name.startswith("Source:") or not has_event_time_operators([name]):
            continue
        found = rest.vertex_metrics(job_id, vertex["id"], ["currentInputWatermark"], "min")
        value = found.get("currentInputWatermark")
        if value is None or not 0 < value <= _LAST_EVENT_MS:
            return NO_WATERMARK  # a subtask without a watermark yet holds every window
        marks.append(int(value))
    return min(marks, default=None)


def late_dropped(rest: FlinkRest, job_id: str, vertices: list[dict[str, Any]]) -> int | None:
    """Records the job's window operators dropped as late, or None when none reports it."""
    found: int | None = None
    for vertex in vertices:
        if not has_event_time_operators([str(vertex.get("name", ""))]):
            continue
        names = [n for n in rest.vertex_metric_names(job_id, vertex["id"])
                 if n.endswith(".numLateRecordsDropped")]  # fmt: skip
        for value in rest.vertex_metrics(job_id, vertex["id"], names).values():
            found = (found or 0) + int(value)
    return found


def take_sample(
    rest: FlinkRest, job_id: str, end_offsets: dict[str, dict[int, int]],
    committed: dict[str, dict[int, int]] | None = None,
) -> Sample:  # fmt: skip
    """Sample a running job now; ``end_offsets`` are the heads of the topics it reads."""
    return _sample_of(flink_figures(rest, job_id), rest.checkpoints(job_id), end_offsets,
                      committed)  # fmt: skip


def _sample_of(
    figures: dict[str, Any], checkpoints: dict[str, Any], end_offsets: dict[str, dict[int, int]],
    committed: dict[str, dict[int, int]] | None,
) -> Sample:  # fmt: skip
    latest = (checkpoints.get("latest") or {}).get("completed") or {}
    return Sample(
        at=time.time(),
        clock=time.monotonic(),
        state=figures["state"],
        records_in_per_s=figures["rate_in"],
        records_out_per_s=figures.get("rate_out", 0.0),
        watermark_ms=figures["watermark"],
        checkpoints=int(checkpoints.get("counts", {}).get("completed", 0)),
        last_checkpoint_ms=latest.get("end_to_end_duration"),
        pending_records=figures["pending"],
        event_time_operators=figures["event_time_operators"],
        operator_watermark_ms=figures["operator_watermark"],
        read_positions=figures["positions"],
        finished_sources=figures.get("finished_sources", ()),
        late_dropped=figures.get("late_dropped"),
        end_offsets=end_offsets,
        committed=committed or {},
    )


class MalformedCount:
    """Counts one run's malformed events in its dead-letter topics, reading only new records.

    ``store``: the folder of dead-letter tallies shared with `status` (see
    `kappanb.kafka.dead_letters`); without it the count is kept in this process only.
    Until every topic has been read to its end, a sample says None (not known yet)
    rather than a partial count; each sample reads on from where the last one stopped.
    """

    def __init__(
        self, connection: KafkaConnection, run_id: int, topics: Sequence[str],
        store: Path | None = None,
    ) -> None:  # fmt: skip
        from kappanb.kafka.dead_letters import DeadLetterReader

        self.run_id = run_id
        self.readers = [DeadLetterReader(connection, t, store) for t in topics]

    def __call__(self, sample: Sample) -> Sample:
        if not self.readers:
            return sample
        found = [r.refresh(timeout=5.0).malformed(self.run_id) for r in self.readers]
        exact = all(m.exact for m in found)
        return replace(sample, malformed=sum(m.count for m in found) if exact else None)


def sample_run(
    rest: FlinkRest, connection: KafkaConnection, job_id: str, group: str, topics: list[str],
    event_time: Mapping[str, str] | None = None, bounded: Sequence[BoundedRead] = (),
) -> Sample:  # fmt: skip
    """Sample a running job that reads ``topics`` as ``group``: Flink's figures, the heads
    of the log, the group's committed offsets and, for topics with an ``event_time``
    field, the newest event time at the head (topics spelled as Flink's metrics do).
    ``bounded``: topics (among ``topics``) it reads only up to fixed offsets, judged
    against those (`kappanb.monitor.bounded_reads`)."""
    from kappanb.kafka.positions import log_positions
    from kappanb.monitor.bounded_reads import capped

    # Flink first: when the stack has gone (`down` in another process), its REST port
    # refuses at once and no Kafka client is made to retry a broker that is not there
    # (each one filled the Jupyter server's log with rdkafka's connection errors).
    figures, checkpoints = flink_figures(rest, job_id), rest.checkpoints(job_id)
    log = log_positions(connection, group, topics, event_time)
    spelled = {t: t.replace(".", "_") for t in topics}
    sample = _sample_of(
        figures, checkpoints, {spelled[t]: v for t, v in log.heads.items()},
        {spelled[t]: v for t, v in log.committed.items()},
    )  # fmt: skip
    newest = max(log.head_event_ms.values(), default=None)
    sample = replace(sample, head_event_ms=newest, partition_event_ms=log.partition_event_ms)
    return capped(sample, bounded)
