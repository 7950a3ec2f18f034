"""Sets of offsets as ranges: exact sizes whatever the order, repeats or gaps (no I/O)."""

from __future__ import annotations

import random

from kappanb.kafka.offset_ranges import OffsetRanges


def test_runs_of_offsets_take_one_range_each_and_count_exactly() -> None:
    ranges = OffsetRanges()
    ranges.add_all(range(0, 1_000_000))
    ranges.add_all(range(1_000_000, 1_000_010))  # continues the last range
    ranges.add_all([2_000_000])
    assert ranges.bounds == [0, 1_000_010, 2_000_000, 2_000_001]
    assert len(ranges) == 1_000_011


def test_repeats_and_any_order_match_a_plain_set() -> None:
    rng = random.Random(7)
    plain: set[int] = set()
    ranges = OffsetRanges()
    for _ in range(50):
        batch = [rng.randrange(0, 5_000) for _ in range(300)]
        batch += rng.sample(sorted(plain), min(len(plain), 50))  # written again after a restart
        plain.update(batch)
        ranges.add_all(batch)
        assert len(ranges) == len(plain)
    b = ranges.bounds
    assert all(b[i] < b[i + 1] for i in range(len(b) - 1))  # sorted, disjoint, not touching
    assert {o for i in range(0, len(b), 2) for o in range(b[i], b[i + 1])} == plain


def test_adding_nothing_changes_nothing() -> None:
    ranges = OffsetRanges([3, 5])
    ranges.add_all([])
    ranges.add_all([3, 4])
    assert ranges.bounds == [3, 5] and len(ranges) == 2
