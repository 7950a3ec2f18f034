"""Records that reached a sealed topic version after its cut.

A topic ``v2`` that follows ``v1`` seals ``v1`` at its end offsets (the cut); kappanb then
refuses to produce to ``v1``, but a producer outside kappanb may still append to it. Runs
read ``v1`` up to the cut and then ``v2``, so such records are read by no run of ``v2``:
lost to every output unless they are produced to ``v2``. `status` says so, per partition
(records that retention deleted since are not counted: they are gone from the log too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kappanb.kafka.connection import KafkaConnection
from kappanb.kafka.run_offsets import log_marks
from kappanb.registry.records import JobVersion, TopicSpec


@dataclass(frozen=True)
class PastCut:
    """An older topic version with records past its cut."""

    older: str
    newer: str
    past: dict[int, int]
    """Per partition with any, how many records lie past the cut."""

    @property
    def total(self) -> int:
        return sum(self.past.values())

    def __str__(self) -> str:
        parts = ", ".join(f"partition {p}: {n:,}" for p, n in sorted(self.past.items()))
        return (
            f"{self.older} has {self.total:,} record{'s' if self.total != 1 else ''} past its "
            f"cut ({parts}): no run of {self.newer} reads them (it reads {self.older} up to "
            f"the cut); produce them to {self.newer}"
        )


def followers_in_scope(
    topics: Sequence[TopicSpec], versions: Sequence[JobVersion], name: str | None
) -> list[TopicSpec]:
    """The sealing topics `status NAME` speaks of: all (no name), those the job NAME
    reads, or the one that follows or is the topic NAME."""
    chained = [t for t in topics if t.follows is not None and t.cut]
    if name is None:
        return chained
    read = {s for v in versions if v.job == name for s in v.sources}
    return [t for t in chained if name in (t.name, t.follows) or read & {t.name, t.follows}]


def records_past_cut(kafka: KafkaConnection, followers: Sequence[TopicSpec]) -> list[PastCut]:
    """For each of ``followers``, the records its older version holds past the cut."""
    olders = sorted({t.follows for t in followers if t.follows is not None})
    if not olders:
        return []
    marks = log_marks(kafka, olders)
    found = []
    for newer in followers:
        assert newer.follows is not None
        cut = newer.cut_offsets
        past = {
            p: high - max(low, cut.get(p, 0))
            for p, (low, high) in marks.get(newer.follows, {}).items()
            if high > max(low, cut.get(p, 0))
        }
        if past:
            found.append(PastCut(newer.follows, newer.name, past))
    return found
