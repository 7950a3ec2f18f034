"""Snapshot expiry after compaction: old snapshots go, the current one and its rows stay,
and only the files no kept snapshot reaches are deleted."""

from __future__ import annotations

import time
from pathlib import Path

from kappanb.tables.compaction import compact_table
from kappanb.tables.expiry import expire_snapshots
from kappanb.tables.merge_read import read_snapshot
from kappanb.tables.rewrite_commit import live_files
from tests.tables.test_compaction import _aged
from tests.tables.upsert_tables import ORACLE


def _now_ms() -> int:
    return int(time.time() * 1000)


def test_snapshots_younger_than_the_retention_are_kept(tmp_path: Path) -> None:
    table = _aged(tmp_path)
    compact_table(table)
    table = table.refresh()
    before = [s.snapshot_id for s in table.snapshots()]
    expired = expire_snapshots(table, older_than_ms=min(s.timestamp_ms for s in table.snapshots()))
    assert (expired.snapshots, expired.files) == (0, 0)
    assert [s.snapshot_id for s in table.refresh().snapshots()] == before


def test_expiry_keeps_the_current_snapshot_and_deletes_only_unreached_files(
    tmp_path: Path,
) -> None:
    table = _aged(tmp_path)
    compact_table(table)
    table = table.refresh()
    current = table.current_snapshot()
    assert current is not None and len(table.snapshots()) == 4

    expired = expire_snapshots(table, older_than_ms=_now_ms() + 1)

    table = table.refresh()
    assert expired.snapshots == 3
    assert [s.snapshot_id for s in table.snapshots()] == [current.snapshot_id]
    on_disk = {p.as_uri() for p in (tmp_path / "wh").rglob("*.parquet")}
    assert on_disk == live_files(table, current).paths  # 3 data + 3 delete files deleted
    assert expired.files >= 6
    assert sorted((r["k"], r["n"]) for r in read_snapshot(table).to_pylist()) == ORACLE
    assert sorted((r["k"], r["n"]) for r in table.scan().to_arrow().to_pylist()) == ORACLE


def test_a_file_an_earlier_expiry_removed_is_not_an_error(tmp_path: Path) -> None:
    table = _aged(tmp_path)
    compact_table(table)
    table = table.refresh()
    current = live_files(table, table.current_snapshot()).paths
    old = {e.data_file.file_path for s in table.snapshots()[:-1]
           for e in live_files(table, s).data} - current  # fmt: skip
    gone = sorted(old)[0]
    table.io.delete(gone)  # as a manifest carried on by a later commit names it again
    expired = expire_snapshots(table, older_than_ms=_now_ms() + 1)
    assert expired.snapshots == 3 and expired.files >= 5
    assert not any(p.as_uri() == gone for p in (tmp_path / "wh").rglob("*.parquet"))
    assert sorted((r["k"], r["n"]) for r in read_snapshot(table.refresh()).to_pylist()) == ORACLE
