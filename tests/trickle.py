"""A live GROUP BY fed a trickle of events (the compaction and maintenance tests): the
oracle of per-merchant counts and totals, and a `Trickle` that produces batch by batch and
checks every read against the oracles of the prefixes produced so far."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from kappanb.tables.rewrite_commit import live_files
from kappanb.workbench import Workbench
from tests.oracles import eventually

Rows = frozenset[tuple[str, int, int]]


def oracle(events: Sequence[dict[str, Any]]) -> Rows:
    counts: dict[str, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    for e in events:
        counts[e["merchant"]] += 1
        totals[e["merchant"]] += e["amount"]
    return frozenset((m, counts[m], totals[m]) for m in counts)


class Trickle:
    """Events produced batch by batch to ``topic``, each once the previous one is in the
    output of ``job``; every read is checked against the oracles of the prefixes produced
    so far."""

    def __init__(self, wb: Workbench, seed: int, *, topic: str, job: str, merchants: int) -> None:
        self.wb, self.rng = wb, random.Random(seed)
        self.topic, self.job, self.merchants = topic, job, merchants
        self.events: list[dict[str, Any]] = []
        self.prefixes: set[Rows] = {frozenset()}
        self.reads = 0
        self.torn: list[Rows] = []  # reads that match no prefix

    def read(self) -> Rows:
        frame = self.wb.read(self.job).collect()
        rows = frozenset((str(m), int(p), int(t)) for m, p, t in frame.select(
            "merchant", "payments", "total").iter_rows())  # fmt: skip
        self.reads += 1
        if rows not in self.prefixes:
            self.torn.append(rows)
        return rows

    def batch(self, size: int) -> list[dict[str, Any]]:
        return [{"merchant": f"m{self.rng.randrange(self.merchants)}",
                 "amount": self.rng.randrange(1, 100)} for _ in range(size)]  # fmt: skip

    def add(self, size: int) -> None:
        new = self.batch(size)
        for i in range(1, len(new) + 1):
            self.prefixes.add(oracle(self.events + new[:i]))
        self.events += new
        self.wb.produce(self.topic, new)
        want = oracle(self.events)
        assert eventually(self.read, lambda rows: rows == want, timeout=90) == want


def sink_rewrites(table: Any) -> list[Any]:
    """The snapshots the sink's rewrite committed (operation ``replace``, not `compact`'s)."""
    return [s for s in table.snapshots() if s.summary is not None
            and s.summary.operation.value == "replace"
            and s.summary["kappanb.compacted-files"] is None]  # fmt: skip


def file_counts(table: Any) -> tuple[int, int]:
    """The current snapshot's data files and delete files."""
    files = live_files(table, table.current_snapshot())
    return len(files.data), len(files.deletes)
