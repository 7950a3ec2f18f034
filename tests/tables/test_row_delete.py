"""The row-level delete of an append-only table (kappanb.tables.row_delete), on hand-made
Iceberg tables: exact rows gone, every other row kept (NULLs included), files without a
match untouched, a concurrent commit neither lost nor left undeleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pyiceberg.table import Table

from kappanb.exceptions import RowDeleteConflictError, RowDeleteUnsupportedError
from kappanb.tables import row_delete
from kappanb.tables.merge_read import read_snapshot
from kappanb.tables.rewrite_commit import live_files
from kappanb.tables.row_delete import delete_rows, matching_rows
from tests.tables.upsert_tables import commit_delta, data_file, equality_delete, new_table

FIRST = [("a", 1), ("b", 2), ("c", None), ("a", 3)]
SECOND = [("d", 4), ("e", 5)]
THIRD = [("a", 6)]


def rows_of(table: Table, snapshot_id: int | None = None) -> list[tuple[Any, ...]]:
    frame = pl.from_arrow(read_snapshot(table.refresh(), snapshot_id))
    assert isinstance(frame, pl.DataFrame)
    return sorted(frame.iter_rows(), key=repr)


def appended(tmp_path: Path, *batches: list[tuple[str, Any]]) -> Table:
    table = new_table(tmp_path)
    for batch in batches:
        table = commit_delta(table, [data_file(table, batch)], [])  # type: ignore[arg-type]
    return table


def test_only_the_matching_rows_go_and_files_without_one_are_kept(tmp_path: Path) -> None:
    table = appended(tmp_path, FIRST, SECOND, THIRD)
    before = {e.data_file.file_path for e in live_files(table, table.current_snapshot()).data}
    condition = pl.col("k") == "a"
    oracle = sorted([r for r in FIRST + SECOND + THIRD if r[0] != "a"], key=repr)

    done = delete_rows(table, condition)

    assert done.rows == 3 and sorted(done.matched["n"].to_list()) == [1, 3, 6]
    assert (done.files_rewritten, done.files_dropped, done.retries) == (1, 1, 0)
    table = table.refresh()
    snapshot = table.current_snapshot()
    assert snapshot is not None and snapshot.snapshot_id == done.snapshot_id
    assert snapshot.summary is not None and snapshot.summary.operation.value == "overwrite"
    assert rows_of(table) == oracle  # ("c", None) kept: a NULL is no match
    assert matching_rows(table, condition) == 0
    after = {e.data_file.file_path for e in live_files(table, snapshot).data}
    assert len(before & after) == 1  # SECOND's file, untouched
    assert int(snapshot.summary["total-records"]) == len(oracle)


def test_a_condition_matching_nothing_commits_nothing(tmp_path: Path) -> None:
    table = appended(tmp_path, FIRST)
    head = table.current_snapshot()
    done = delete_rows(table, pl.col("k") == "zz")
    assert done.rows == 0 and done.snapshot_id is None
    assert table.refresh().current_snapshot() == head


def test_rows_appended_during_the_delete_are_kept_or_deleted_as_they_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer commits between the read and the commit (as Flink's checkpoint would):
    the commit is lost, built again on the new head; its rows that match go too."""
    table = appended(tmp_path, FIRST)
    real, raced = row_delete.commit_snapshot, []

    def racing(*args: Any, **kwargs: Any) -> None:
        if not raced:
            raced.append(commit_delta(table, [data_file(table, THIRD + SECOND)], []))
        real(*args, **kwargs)

    monkeypatch.setattr(row_delete, "commit_snapshot", racing)
    done = delete_rows(table, pl.col("k") == "a")
    assert done.retries == 1 and done.rows == 3
    assert rows_of(table) == sorted([("b", 2), ("c", None), *SECOND], key=repr)


def test_a_writer_that_always_wins_leaves_the_table_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = appended(tmp_path, FIRST)
    files = set((tmp_path / "wh").rglob("*.parquet"))
    real = row_delete.commit_snapshot

    def racing(*args: Any, **kwargs: Any) -> None:
        commit_delta(table, [data_file(table, SECOND)], [])
        real(*args, **kwargs)

    monkeypatch.setattr(row_delete, "commit_snapshot", racing)
    with pytest.raises(RowDeleteConflictError, match="nothing was deleted"):
        delete_rows(table, pl.col("k") == "a", max_attempts=3)
    assert ("a", 1) in rows_of(table)
    written = set((tmp_path / "wh").rglob("*.parquet")) - files
    assert len(written) == 3  # SECOND three times; the delete's own files were removed


def test_a_table_with_delete_files_is_refused(tmp_path: Path) -> None:
    table = appended(tmp_path, FIRST)
    table = commit_delta(table, [], [equality_delete(table, ["b"])])
    head = table.current_snapshot()
    with pytest.raises(RowDeleteUnsupportedError, match="not append-only"):
        delete_rows(table, pl.col("k") == "a")
    assert table.refresh().current_snapshot() == head


def test_an_aggregate_in_the_condition_means_the_whole_table_not_each_file(
    tmp_path: Path,
) -> None:
    table = appended(tmp_path, FIRST, SECOND, THIRD)
    done = delete_rows(table, pl.sql_expr("n = max(n)"))  # the table's maximum: 6
    assert done.matched.rows() == [("a", 6)]
    assert rows_of(table) == sorted(FIRST + SECOND, key=repr)
