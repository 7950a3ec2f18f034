"""Compaction on hand-made upsert tables (no Flink): rows kept exactly, no delete file left,
sequence numbers that keep later deletes applying, and the races with a concurrent writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform

from kappanb.exceptions import CompactionConflictError, CompactionUnsupportedError
from kappanb.tables import compaction
from kappanb.tables.compaction import compact_table
from kappanb.tables.rewrite_commit import live_files
from tests.duckdb_reads import duckdb_rows
from tests.tables.upsert_tables import (
    ORACLE,
    SCHEMA,
    age,
    commit_delta,
    data_file,
    equality_delete,
    new_table,
    position_delete,
    read_pairs,
)


def _plain_scan(table: Table) -> list[tuple[str, int]]:
    return sorted((r["k"], r["n"]) for r in table.refresh().scan().to_arrow().to_pylist())


def _aged(tmp_path: Path) -> Table:
    return age(new_table(tmp_path))


def test_compaction_applies_every_delete_and_leaves_no_delete_file(tmp_path: Path) -> None:
    table = _aged(tmp_path)
    base = table.current_snapshot()
    assert base is not None
    assert read_pairs(table) == ORACLE
    assert duckdb_rows(table, ["k", "n"]) == ORACLE  # DuckDB applies both kinds of deletes

    done = compact_table(table)

    assert (done.files_before, done.delete_files_before) == (3, 3)
    assert (done.files_after, done.delete_files_after, done.rows, done.retries) == (1, 0, 3, 0)
    table = table.refresh()
    assert read_pairs(table) == ORACLE
    assert _plain_scan(table) == ORACLE  # pyiceberg refuses equality deletes: none is left
    assert duckdb_rows(table, ["k", "n"]) == ORACLE  # another engine reads the same rows
    (entry,) = live_files(table, table.current_snapshot()).data
    assert entry.sequence_number == base.sequence_number  # older than any later delete
    summary = table.current_snapshot().summary  # type: ignore[union-attr]
    assert summary is not None and summary.operation.value == "replace"
    assert summary["flink.max-committed-checkpoint-id"] is not None


def test_a_delete_committed_after_compaction_applies_to_the_compacted_rows(tmp_path: Path) -> None:
    table = _aged(tmp_path)
    compact_table(table)
    table = commit_delta(table, [data_file(table, [("a", 9)])], [equality_delete(table, ["a"])])
    assert read_pairs(table) == [("a", 9), ("b", 3), ("c", 4)]


def test_nothing_to_compact_commits_nothing(tmp_path: Path) -> None:
    table = new_table(tmp_path)
    table = commit_delta(table, [data_file(table, [("a", 1)])], [])
    before = table.current_snapshot()
    done = compact_table(table)
    assert not done.changed and (done.files_before, done.files_after) == (1, 1)
    assert table.refresh().current_snapshot() == before


def _racing(monkeypatch: pytest.MonkeyPatch, writer: Callable[[Table], Any], times: int) -> None:
    """Let ``writer`` commit (as Flink would) just before each of compaction's first
    ``times`` commits."""
    real = compaction.replace_commit
    calls = {"n": 0}

    def racing(table: Table, *args: Any) -> None:
        calls["n"] += 1
        if calls["n"] <= times:
            writer(table)
        real(table, *args)

    monkeypatch.setattr(compaction, "replace_commit", racing)


def test_a_checkpoint_committed_during_compaction_is_kept_and_applies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _aged(tmp_path)

    def checkpoint(t: Table) -> None:  # updates b, inserts d
        commit_delta(t, [data_file(t, [("b", 7), ("d", 1)])], [equality_delete(t, ["b", "d"])])

    _racing(monkeypatch, checkpoint, times=1)
    done = compact_table(table)

    assert done.retries == 1
    expected = [("a", 2), ("b", 7), ("c", 4), ("d", 1)]
    assert read_pairs(table) == expected
    assert (done.files_after, done.delete_files_after) == (2, 1)  # the race's files stay
    assert compact_table(table).delete_files_after == 0  # the next compaction takes them
    assert _plain_scan(table) == expected


def test_a_position_delete_on_a_rewritten_file_makes_it_start_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _aged(tmp_path)
    entries = live_files(table, table.current_snapshot()).data
    second = next(e for e in entries if e.sequence_number == 2).data_file.file_path

    def foreign(t: Table) -> None:  # another writer deletes a=2 (row 0 of the second file)
        commit_delta(t, [], [position_delete(t, second, [0])])

    _racing(monkeypatch, foreign, times=1)
    done = compact_table(table)
    # Rebased, the rewritten file would keep a=2 (the delete names a file gone): computed
    # again from the new head instead.
    assert done.retries == 1
    assert read_pairs(table) == [("b", 3), ("c", 4)]
    assert (done.rows, done.delete_files_after) == (2, 0)


def test_losing_every_race_gives_up_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _aged(tmp_path)

    def checkpoint(t: Table) -> None:
        commit_delta(t, [data_file(t, [("e", 1)])], [])

    _racing(monkeypatch, checkpoint, times=100)
    with pytest.raises(CompactionConflictError, match="lost the race"):
        compact_table(table, max_attempts=3)
    table = table.refresh()
    assert table.current_snapshot().summary.operation.value == "overwrite"  # type: ignore[union-attr]
    assert read_pairs(table) == [*ORACLE, ("e", 1), ("e", 1), ("e", 1)]
    on_disk = {p.as_uri() for p in (tmp_path / "wh").rglob("*.parquet")}
    assert on_disk == live_files(table, table.current_snapshot()).paths  # its files removed


def test_a_partitioned_table_is_refused(tmp_path: Path) -> None:
    table = new_table(tmp_path)
    spec = PartitionSpec(PartitionField(1, 1000, IdentityTransform(), "k"))
    other = table.catalog.create_table(("default", "p"), SCHEMA, partition_spec=spec)
    with pytest.raises(CompactionUnsupportedError, match="partitioned"):
        compact_table(other)


def test_rewrites_given_up_for_conflicts_count_as_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _aged(tmp_path)

    def foreign(t: Table) -> None:  # always a position delete on a file compaction read
        entries = live_files(t.refresh(), t.current_snapshot()).data
        commit_delta(t, [], [position_delete(t, entries[0].data_file.file_path, [0])])

    _racing(monkeypatch, foreign, times=100)
    with pytest.raises(CompactionConflictError, match="3 times in 3 attempts"):
        compact_table(table, max_attempts=3)
    table = table.refresh()
    assert table.current_snapshot().summary.operation.value == "overwrite"  # type: ignore[union-attr]
    on_disk = {p.as_uri() for p in (tmp_path / "wh").rglob("*.parquet")}
    assert on_disk == live_files(table, table.current_snapshot()).paths


def test_the_checkpoint_of_the_last_flink_commit_survives_a_rewrite_without_one(
    tmp_path: Path,
) -> None:
    """Iceberg's Flink maintenance commits rewrites whose summary names no checkpoint; a
    compaction on top still carries the job's last committed checkpoint, so a restore
    after an expiry does not commit that checkpoint's files again."""
    from pyiceberg.table.snapshots import Operation, Summary

    from kappanb.tables.rewrite_commit import commit_snapshot

    table = _aged(tmp_path)
    flink = table.current_snapshot()
    assert flink is not None and flink.summary is not None
    checkpoint = flink.summary["flink.max-committed-checkpoint-id"]
    manifests = flink.manifests(table.io)
    between = table.metadata.new_snapshot_id()  # like a rewrite by Flink's maintenance
    commit_snapshot(table, between, flink.snapshot_id, manifests, Summary(Operation.REPLACE))
    table = table.refresh()
    assert table.current_snapshot().summary["flink.max-committed-checkpoint-id"] is None  # type: ignore[union-attr]

    compact_table(table)
    summary = table.refresh().current_snapshot().summary  # type: ignore[union-attr]
    assert summary is not None and summary["flink.max-committed-checkpoint-id"] == checkpoint
    assert read_pairs(table) == ORACLE
