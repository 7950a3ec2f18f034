"""Finishing a bounded replay that has read to its end but does not finish.

Flink's Kafka source restored from a checkpoint or a savepoint (a replay `up` resumed, or
one resumed after its JobManager died) reads to its stopping offsets and then waits for
partitions that will never come: its enumerator does not tell the readers there are no
more (FLINK-31006). The job stays RUNNING with nothing behind, and windows that only the
end of the input closes are never emitted.

A bounded replay whose consumer group has committed its recorded end
(``RunRecord.end_offsets``, for ``--until latest``), and that is still RUNNING two
checkpoints later (one that can finish ends with the first checkpoint after its sources
finished), is
stopped with a *draining* savepoint: Flink then emits the final watermark, fires every
window, commits, and the job ends FINISHED, as it would have by itself.

Only the group's committed offsets count, never the read positions Flink's metrics report:
Flink commits an offset once a completed checkpoint holds every record before it, so the
window state then has all the input, and the drain can lose nothing. (Positions from
metrics can be stale or absent while Flink's metric fetcher is frozen: a drain judged by
them once ended a replay with 241 of its 300 windows.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from kappanb.kafka.run_offsets import Offsets
from kappanb.monitor.sample import Sample

STUCK_SAMPLES = 5
"""Samples (about a second apart) at the end and still running before it is drained."""
STUCK_CHECKPOINTS = 2
"""Checkpoints completed while at the end and still running before it is drained: a job
whose sources finished ends with the first checkpoint after that (its final commit)."""


def reached(sample: Sample, end: Offsets) -> bool:
    """The run's group has committed every partition of ``end`` (topics spelled as Flink's
    metrics spell them) up to its end offset (a partition with nothing to read counts)."""
    for topic, partitions in end.items():
        committed = sample.committed.get(topic, {})
        for partition, stop in partitions.items():
            if stop > 0 and committed.get(partition, 0) < stop:
                return False
    return True


class EndOfInput:
    """An update listener of a bounded replay's watch: drains the job once (``drain``,
    called on a thread of its own) when it has stayed at its end for ``samples`` samples."""

    def __init__(
        self, end: Offsets, drain: Callable[[], object], samples: int = STUCK_SAMPLES
    ) -> None:
        self.end, self.samples, self._drain = end, samples, drain
        self.streak = 0
        self.checkpoints_at_end: int | None = None
        self.drained = False
        self.error: str | None = None
        self._seen: Sample | None = None

    def observe(self, sample: Sample) -> bool:
        """Count ``sample``; True when the job is to be drained now (once)."""
        if sample is self._seen or self.drained or not self.end:
            return False
        self._seen = sample
        at_end = sample.state == "RUNNING" and reached(sample, self.end)
        self.streak = self.streak + 1 if at_end else 0
        if not at_end:
            self.checkpoints_at_end = None
            return False
        if self.checkpoints_at_end is None:
            self.checkpoints_at_end = sample.checkpoints
        stuck = sample.checkpoints - self.checkpoints_at_end >= STUCK_CHECKPOINTS
        if self.streak < self.samples or not stuck:
            return False
        self.drained = True
        return True

    def __call__(self, watch: object) -> None:
        latest = getattr(getattr(watch, "history", None), "latest", None)
        if isinstance(latest, Sample) and self.observe(latest):
            threading.Thread(target=self._run, name="kappanb-drain", daemon=True).start()

    def _run(self) -> None:
        try:
            self._drain()
        except Exception as exc:  # the job may have finished meanwhile: nothing to drain
            self.error = str(exc)
