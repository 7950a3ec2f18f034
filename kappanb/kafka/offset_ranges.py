"""A set of Kafka offsets kept as sorted, disjoint, half-open ranges.

The malformed events of a run sit at source positions that mostly run on (a run whose
every event is malformed has one range per partition, however many events), so a set of
a million positions usually takes a few numbers, and counting it is a subtraction per
range. Sparse positions cost two numbers each: no worse than a plain set.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable


class OffsetRanges:
    """Distinct offsets as ``bounds = [lo0, hi0, lo1, hi1, ...]``, ``lo <= offset < hi``."""

    __slots__ = ("bounds",)

    def __init__(self, bounds: Iterable[int] = ()) -> None:
        self.bounds: list[int] = list(bounds)

    def __len__(self) -> int:
        return sum(self.bounds[1::2]) - sum(self.bounds[0::2])

    def add_all(self, offsets: Iterable[int]) -> None:
        """Add ``offsets`` (any order, repeats allowed); one sort, then one merge."""
        new = _ranges(sorted(set(offsets)))
        if not new:
            return
        if not self.bounds or new[0] > self.bounds[-1]:
            self.bounds.extend(new)  # past every known offset: the usual case
        elif new[0] == self.bounds[-1]:
            self.bounds[-1] = new[1]  # continues the last range
            self.bounds.extend(new[2:])
        else:
            self.bounds = _union(self.bounds, new)


def _ranges(ordered: list[int]) -> list[int]:
    """Sorted distinct offsets as flat half-open ranges."""
    out: list[int] = []
    for offset in ordered:
        if out and offset == out[-1]:
            out[-1] = offset + 1
        else:
            out += [offset, offset + 1]
    return out


def _union(a: list[int], b: list[int]) -> list[int]:
    out: list[int] = []
    pairs = heapq.merge(zip(a[::2], a[1::2], strict=True), zip(b[::2], b[1::2], strict=True))
    for lo, hi in pairs:
        if out and lo <= out[-1]:
            out[-1] = max(out[-1], hi)
        else:
            out += [lo, hi]
    return out
