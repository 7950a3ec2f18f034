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
from kappanb.tables import row_delete, row_match
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


def test_file_by_file_only_files_with_a_match_are_read_whole_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five data files, two with a match: each file is read in the condition's column
    alone, one at a time; only the two are read whole and replaced, the other three stay
    the very same files, and the rows left are exactly the oracle's."""
    batches = [[(f"x{b}", 10 * b + i) for i in range(4)] for b in range(5)]
    batches[1][2] = ("d42", 12)
    batches[3] = [("d42", 30), ("d42", 31)]  # every row matches: the file goes
    table = appended(tmp_path, *batches)
    before = {e.data_file.file_path for e in live_files(table, table.current_snapshot()).data}
    projected: list[tuple[int, tuple[str, ...]]] = []
    whole: list[str] = []
    real_projected, real_whole = row_match.read_data_files, row_delete.read_data_files

    def reading_projected(tbl: Table, refs: Any, schema: Any = None) -> Any:
        projected.append((len(refs), tuple(f.name for f in schema.fields)))
        return real_projected(tbl, refs, schema)

    def reading_whole(tbl: Table, refs: Any, schema: Any = None) -> Any:
        whole.extend(r.path for r in refs)
        return real_whole(tbl, refs, schema)

    monkeypatch.setattr(row_match, "read_data_files", reading_projected)
    monkeypatch.setattr(row_delete, "read_data_files", reading_whole)
    done = delete_rows(table, pl.sql_expr("k = 'd42'"))

    assert projected == [(1, ("k",))] * 5  # one file at a time, the condition's column only
    assert len(whole) == 2 and set(whole) < before
    assert (done.rows, done.files_rewritten, done.files_dropped) == (3, 1, 1)
    table = table.refresh()
    after = {e.data_file.file_path for e in live_files(table, table.current_snapshot()).data}
    assert before - after == set(whole)  # the three files without a match: untouched
    assert len(after - before) == 1  # batch 1's other rows, written anew
    oracle = [r for batch in batches for r in batch if r[0] != "d42"]
    assert rows_of(table) == sorted(oracle, key=repr)


def test_with_its_sql_text_files_whose_bounds_exclude_a_match_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same archive, the condition's text given: files 0, 2 and 4 (``k`` from x0 to
    x0, ...) cannot hold 'd42' by their column bounds, so only files 1 and 3 are read."""
    batches = [[(f"x{b}", 10 * b + i) for i in range(4)] for b in range(5)]
    batches[1][2] = ("d42", 12)
    batches[3] = [("d42", 30), ("d42", 31)]
    table = appended(tmp_path, *batches)
    files = [e.data_file.file_path for e in live_files(table, table.current_snapshot()).data]
    read: list[str] = []
    real = row_match.read_data_files

    def reading(tbl: Table, refs: Any, schema: Any = None) -> Any:
        read.extend(r.path for r in refs)
        return real(tbl, refs, schema)

    monkeypatch.setattr(row_match, "read_data_files", reading)
    done = delete_rows(table, pl.sql_expr("k = 'd42'"), text="k = 'd42'")
    assert done.rows == 3 and len(read) == 2 and set(read) < set(files)
    oracle = [r for batch in batches for r in batch if r[0] != "d42"]
    assert rows_of(table) == sorted(oracle, key=repr)
    assert matching_rows(table.refresh(), pl.col("k") == "d42", text="k = 'd42'") == 0


def test_a_whole_table_condition_is_evaluated_again_over_rows_appended_in_a_race(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``n = max(n)``: a racing append brings a new maximum, so the retry deletes it, and
    the row that was the maximum before is kept."""
    table = appended(tmp_path, FIRST, SECOND)
    real, raced = row_delete.commit_snapshot, []

    def racing(*args: Any, **kwargs: Any) -> None:
        if not raced:
            raced.append(commit_delta(table, [data_file(table, THIRD)], []))
        real(*args, **kwargs)

    monkeypatch.setattr(row_delete, "commit_snapshot", racing)
    done = delete_rows(table, pl.sql_expr("n = max(n)"))
    assert done.retries == 1 and done.matched.rows() == [("a", 6)]
    assert rows_of(table) == sorted(FIRST + SECOND, key=repr)
    table = table.refresh()
    live = {e.data_file.file_path for e in live_files(table, table.current_snapshot()).data}
    on_disk = {p.as_uri() for p in (tmp_path / "wh").rglob("*.parquet")}
    # Only THIRD's file is on disk but not live (the race's); the first attempt's rewrite
    # of SECOND (whose ("e", 5) was the maximum then) was deleted when its match changed.
    assert len(on_disk) == 3 and len({p.rsplit("/", 1)[1] for p in on_disk - live}) == 1
