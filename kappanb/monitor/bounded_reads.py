"""Topics a run reads only up to fixed offsets: the older version of a topic that a newer
one follows (`kappanb.versions.chain`), read to the cut where it was sealed.

For such a topic the target of catching up is the cut, not the log's end (an outside
producer may have appended past it; the run never uses those). In a bounded run its Flink
source ends there and finishes: a finished task reports no offsets any more, and its last
positions may never have been committed (offsets are committed on checkpoints, which a
finished source takes no part in). A source whose vertex has FINISHED has read every
offset up to its cut, which is what a sample says then. (Unbounded, the source reads on
past the cut and reports its positions as any source does.)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from kappanb.monitor.sample import Sample

Offsets = dict[str, dict[int, int]]


@dataclass(frozen=True)
class BoundedRead:
    """A topic a run reads through the Flink source table ``source`` up to ``ends``."""

    topic: str
    """As Kafka names it."""
    source: str
    """The source table: Flink names its vertex ``Source: <source>[n] -> ...``."""
    ends: Mapping[int, int]
    """Per partition, the offset the source stops before."""

    @property
    def spelled(self) -> str:
        """The topic as Flink's metrics (and samples) spell it."""
        return self.topic.replace(".", "_")


def has_finished(read: BoundedRead, finished: Collection[str]) -> bool:
    return any(name.startswith(f"Source: {read.source}[") for name in finished)


def positions_with(
    positions: Offsets, reads: Sequence[BoundedRead], finished: Collection[str]
) -> Offsets:
    """``positions`` (topics spelled as Flink does) with each finished bounded read at its
    ends."""
    found = {t: dict(p) for t, p in positions.items()}
    for read in reads:
        if has_finished(read, finished):
            found[read.spelled] = dict(read.ends)
    return found


def capped(sample: Sample, reads: Sequence[BoundedRead]) -> Sample:
    """``sample`` judged against the bounded reads' ends: their heads are the ends, and
    a finished source (or job) has read up to them."""
    if not reads:
        return sample
    ends = {t: dict(p) for t, p in sample.end_offsets.items()}
    for read in reads:
        ends[read.spelled] = dict(read.ends)
    finished = sample.finished_sources
    if sample.state == "FINISHED":
        finished = tuple(f"Source: {r.source}[" for r in reads)
    positions = positions_with(sample.read_positions, reads, finished)
    return replace(sample, end_offsets=ends, read_positions=positions)
