"""`compact` on the real stack while the job keeps committing: a live GROUP BY (an upsert
table with equality deletes) checkpointing every second, a trickle of events, compactions
racing the checkpoints. Every read (before, during, after) equals the oracle of some prefix
of the events (one partition: the job consumes them in order), the final read equals the
oracle of all of them, and after compaction the current snapshot has no delete file, so
pyiceberg's plain scan returns the same rows. DuckDB's ``iceberg_scan``, a reader outside
kappanb, returns them before compaction (it applies the deletes) and after."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from kappanb.exceptions import UnknownJobError, UnknownVersionError
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables import compaction
from kappanb.tables.catalog import DEFAULT_NAMESPACE, open_catalog
from kappanb.tables.merge_read import read_snapshot
from kappanb.tables.rewrite_commit import live_files
from kappanb.workbench import Workbench
from tests.duckdb_reads import duckdb_rows
from tests.oracles import eventually
from tests.trickle import Trickle, oracle

pytestmark = pytest.mark.integration

TOPIC, SOURCE, JOB = "compact.events.v1", "compact_events", "compact_totals"
SQL = f"SELECT merchant, COUNT(*) AS payments, SUM(amount) AS total FROM {SOURCE} GROUP BY merchant"
COLUMNS = ["merchant", "payments", "total"]


def _table(wb: Workbench) -> Any:
    catalog = open_catalog(wb.stack.endpoints().catalog)
    return catalog.load_table((DEFAULT_NAMESPACE, wb.runs(JOB)[-1].table))


def _current_files(wb: Workbench) -> tuple[int, int]:
    table = _table(wb)
    files = live_files(table, table.current_snapshot())
    return len(files.data), len(files.deletes)


def _lose_to_a_checkpoint(
    monkeypatch: pytest.MonkeyPatch, wb: Workbench, while_: Callable[[], bool]
) -> None:
    """Make each compaction's first commit wait until Flink has committed after the
    snapshot it read (while ``while_()``): that commit then loses the race, for sure."""
    real = compaction.replace_commit

    def late(table: Any, base: Any, *args: Any) -> None:
        head = args[2]
        if head.snapshot_id == base.snapshot_id and while_():
            catalog = open_catalog(wb.stack.endpoints().catalog)
            eventually(lambda: catalog.load_table(table.name()).current_snapshot(),
                       lambda s: s.snapshot_id != base.snapshot_id or not while_(),
                       timeout=60)  # fmt: skip
        real(table, base, *args)

    monkeypatch.setattr(compaction, "replace_commit", late)


def test_compaction_races_the_live_job_and_loses_no_row(
    stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The subject is `compact` against the job's own commits: the sink's automatic
    # maintenance stays off (tests/tables/test_maintenance_live.py has both together).
    settings = replace(stack.settings, checkpoint_interval="1 s", table_maintenance=None)
    wb = Workbench(settings, auto_up=False)
    wb.topic(TOPIC, "merchant STRING, amount BIGINT", partitions=1, table=SOURCE)
    wb.job(JOB, SQL)
    wb.run(JOB, watch=False)
    trickle = Trickle(
        Workbench(wb.settings, auto_up=False), seed=5, topic=TOPIC, job=JOB, merchants=8
    )  # its own thread's
    try:
        for _ in range(5):  # before: one commit or more per batch
            trickle.add(12)
        data_files, delete_files = _current_files(wb)
        assert data_files >= 5 and delete_files >= 4
        table = _table(wb)  # DuckDB applies the deletes Flink wrote: the rows kappanb reads
        kappanb_rows = [tuple(r[c] for c in COLUMNS) for r in read_snapshot(table).to_pylist()]
        assert duckdb_rows(table, COLUMNS) == sorted(kappanb_rows)

        results = []
        producer = threading.Thread(target=lambda: [trickle.add(6) for _ in range(8)])
        _lose_to_a_checkpoint(monkeypatch, wb, while_=producer.is_alive)
        producer.start()  # during: compactions race the job's checkpoints
        while producer.is_alive():
            results.append(wb.compact(JOB))
        producer.join()
        assert len(results) >= 1 and all(r.compacted.files_after >= 1 for r in results)
        assert sum(r.compacted.retries for r in results) >= 1  # each lost to Flink once

        want = oracle(trickle.events)  # after: all in, the job still committing (empty)
        assert eventually(trickle.read, lambda rows: rows == want, timeout=90) == want
        last = wb.compact(JOB, retain="0s")
        assert (last.compacted.delete_files_after, last.compacted.rows) == (0, len(want))
        assert last.expired.snapshots >= 1 and last.expired.files >= 1
        assert _current_files(wb)[1] == 0  # idle: Flink's empty commits add no delete file
        plain = _table(wb).scan().to_arrow().select(COLUMNS).to_pylist()
        assert frozenset((r["merchant"], r["payments"], r["total"]) for r in plain) == want
        assert frozenset(duckdb_rows(_table(wb), COLUMNS)) == want

        trickle.add(10)  # the job goes on committing on top of the compacted table

        # A restore finds the job's last committed checkpoint in the newest snapshot of its
        # job id: after a compaction and an expiry only the compacted snapshot is left, and
        # it must say so, or the restored job commits its last checkpoint's files again.
        wb.stop(JOB, 1, savepoint=True)
        stopped = wb.compact(JOB, retain="0s")
        (only,) = _table(wb).snapshots()
        assert stopped.compacted.changed and only.snapshot_id == stopped.compacted.snapshot_id
        assert only.summary is not None and only.summary["flink.job-id"] is not None
        assert only.summary["flink.max-committed-checkpoint-id"] is not None
        wb.resume(JOB, 1)
        trickle.add(10)
        assert trickle.torn == [] and trickle.reads > 10
        assert "compacted" in str(last) and "<table" in last._repr_html_()
    finally:
        if any(r.active for r in wb.runs(JOB)):
            wb.stop(JOB, 1)

    with pytest.raises(UnknownJobError, match="unknown job 'nope'"):
        wb.compact("nope")
    with pytest.raises(UnknownVersionError, match="has no v9"):
        wb.compact(JOB, 9)
