"""Automatic maintenance on the real stack: a live GROUP BY (an upsert table with equality
deletes) checkpointing every second under a trickle of events, its table maintained by
Iceberg's Flink sink (`kappanb.tables.maintenance`). Every read (before, during, after the
sink's rewrites, and across a stop and resume) equals the oracle of a prefix of the
events; data and delete files stay few, old snapshots expire, an old orphan file goes and
a young one stays. The sink leaves the delete files of its last commits (see the README):
`compact` on top removes them, racing nothing, and pyiceberg's plain scan then returns the
exact rows."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import DEFAULT_NAMESPACE, open_catalog
from kappanb.tables.maintenance import MaintenancePolicy, maintained
from kappanb.workbench import Workbench
from tests.oracles import eventually
from tests.trickle import Trickle, file_counts, oracle, sink_rewrites

pytestmark = pytest.mark.integration

TOPIC, SOURCE, JOB = "maintained.events.v1", "maintained_events", "maintained_totals"
SQL = f"SELECT merchant, COUNT(*) AS payments, SUM(amount) AS total FROM {SOURCE} GROUP BY merchant"
POLICY = MaintenancePolicy(rewrite_every_commits=3, min_input_files=2, rate_limit_s=2,
                           expire_every_commits=3, snapshot_age_s=20, retain_last=5,
                           orphan_every_s=5)  # fmt: skip


def _table(wb: Workbench) -> Any:
    catalog = open_catalog(wb.stack.endpoints().catalog)
    return catalog.load_table((DEFAULT_NAMESPACE, wb.runs(JOB)[-1].table))


def _plant_orphan(table: Any, age_s: float) -> Path:
    """A data file no snapshot names, last modified ``age_s`` ago."""
    data = Path(urlparse(table.location()).path) / "data"
    data.mkdir(parents=True, exist_ok=True)
    orphan = data / f"orphan-{age_s:.0f}.parquet"
    orphan.write_bytes(b"not committed")
    then = time.time() - age_s
    os.utime(orphan, (then, then))
    return orphan


def test_the_sink_keeps_a_live_table_compacted_and_loses_no_row(stack: EmbeddedStack) -> None:
    settings = replace(stack.settings, checkpoint_interval="1 s", table_maintenance=POLICY)
    wb = Workbench(settings, auto_up=False)
    wb.topic(TOPIC, "merchant STRING, amount BIGINT", partitions=1, table=SOURCE)
    wb.job(JOB, SQL)
    wb.run(JOB, watch=False)
    trickle = Trickle(
        Workbench(wb.settings, auto_up=False), seed=11, topic=TOPIC, job=JOB, merchants=6
    )
    try:
        assert maintained(_table(wb).properties)
        old = _plant_orphan(_table(wb), POLICY.orphan_min_age_s + 3600)
        young = _plant_orphan(_table(wb), 60)
        most = (0, 0)
        trickle.add(5)
        first = _table(wb).current_snapshot().snapshot_id
        for _ in range(13):  # before and during: a commit or more per batch
            trickle.add(5)
            data, deletes = file_counts(_table(wb))
            most = max(most[0], data), max(most[1], deletes)
        rewrites = eventually(lambda: sink_rewrites(_table(wb)), bool, timeout=120)
        print(f"files at most {most}; now {file_counts(_table(wb))}; rewrites {len(rewrites)}")
        # Without maintenance: a data file and an equality-delete file or more per commit.
        assert most[0] <= 6 and most[1] <= 12

        # After, idle: the delete files of the last commits stay (see the README); `compact`
        # on top of the sink's rewrites leaves none, and pyiceberg's plain scan works.
        want = oracle(trickle.events)
        assert trickle.read() == want
        compacted = wb.compact(JOB)
        assert compacted.compacted.delete_files_after == 0 and compacted.compacted.rows == len(want)
        table = _table(wb)
        plain = table.scan().to_arrow().select(["merchant", "payments", "total"]).to_pylist()
        assert frozenset((r["merchant"], r["payments"], r["total"]) for r in plain) == want
        assert table.snapshot_by_id(first) is None  # older than 20 s: the sink expired it

        assert eventually(old.exists, lambda there: not there, timeout=120) is False
        assert young.exists()  # younger than the minimum age: maybe still to be committed

        # A resumed run writes through the same sink, its maintenance included.
        wb.stop(JOB, 1, savepoint=True)
        resumed_at = int(time.time() * 1000)
        wb.resume(JOB, 1)
        for _ in range(4):
            trickle.add(5)
        later = eventually(lambda: sink_rewrites(_table(wb)),
                           lambda found: any(r.timestamp_ms > resumed_at for r in found),
                           timeout=120)  # fmt: skip
        assert any(r.timestamp_ms > resumed_at for r in later)
        assert trickle.torn == [] and trickle.reads > 18
    finally:
        if any(r.active for r in wb.runs(JOB)):
            wb.stop(JOB, 1)
