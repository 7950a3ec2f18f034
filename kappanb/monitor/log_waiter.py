"""Waiting until a run has committed what the log held when asked (`RunWatch.wait_for_log`).

The caught-up rule (`kappanb.monitor.history.CaughtUp`) fires once: records produced
after it are not waited for by it. A `LogWaiter` fixes its target when asked instead: the
heads of the log in the first sample taken after it was added (one taken before may have
read the heads before the records the caller produced). It is reached once the rule has
fired, no watermark is held, and a completed checkpoint covers the target; the output
tables commit on the same checkpoints:

- when the consumer group's committed offsets cover it (Flink commits them for a
  completed checkpoint), one more checkpoint completed after that sample;
- when only the read positions do (a source that commits no offsets, e.g. a compacted
  topic's upsert source), two more: with one checkpoint at a time, the second to
  complete after the sample was triggered after it, so its barrier follows those reads.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from kappanb.monitor.sample import Sample
from kappanb.registry.records import ACTIVE_STATES

if TYPE_CHECKING:
    from kappanb.monitor.watcher import RunWatch

Offsets = dict[str, dict[int, int]]


def covers(committed: Offsets, target: Offsets) -> bool:
    """Every partition of ``target`` has a committed offset at or past its head."""
    return all(
        committed.get(topic, {}).get(partition, 0) >= head
        for topic, heads in target.items()
        for partition, head in heads.items()
        if head > 0
    )


def read_positions(sample: Sample) -> Offsets:
    """Where the run reads next per partition (`Sample.positions`)."""
    return sample.positions()


class LogWaiter:
    """An update listener of one `RunWatch`; ``done`` is set when it is reached or the run
    ended, ``reached`` says which."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reached = False
        self.target: Offsets | None = None
        self._seen: Sample | None = None
        self._skipped = False
        self._needed: int | None = None
        """Completed checkpoints that mean the target is committed (module docstring)."""

    def __call__(self, watch: RunWatch) -> None:
        sample = watch.history.latest
        if sample is None or sample is self._seen or self.done.is_set():
            return  # nothing new (a failed sample notifies too)
        self._seen = sample
        if sample.state not in ACTIVE_STATES:
            self.done.set()
            return
        if not self._skipped:  # possibly taken before the caller's records were in the log
            self._skipped = True
            return
        if self.target is None:
            self.target = {t: dict(p) for t, p in sample.end_offsets.items()}
        self.step(sample, fired=watch.rule.fired, held=watch.rule.held_by is not None)

    def step(self, sample: Sample, *, fired: bool, held: bool) -> None:
        """Judge one sample taken after the target was fixed."""
        assert self.target is not None
        if self._needed is None:
            if not (fired and not held and sample.state == "RUNNING"):
                return
            if covers(sample.committed, self.target):
                self._needed = sample.checkpoints + 1
            elif covers(read_positions(sample), self.target):
                self._needed = sample.checkpoints + 2
            return
        if sample.checkpoints >= self._needed:
            self.reached = True
            self.done.set()
