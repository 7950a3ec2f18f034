"""Delete files that apply to no live data file, on hand-made upsert tables (no Flink).

What Iceberg's Flink sink leaves after its rewrites: every data file rewritten (the new one
carrying the starting snapshot's sequence number), yet the delete files still listed. By
the spec's sequence-number rules they delete nothing; `read` must return the same rows
without opening them, and must still apply a delete committed after the rewrite."""

from __future__ import annotations

from pathlib import Path

from pyiceberg.table import Table

from kappanb.tables.merge_read import read_files, read_snapshot
from kappanb.tables.rewrite_commit import LiveFiles, live_files, replace_commit, write_data_files
from tests.tables.upsert_tables import (
    ORACLE,
    age,
    commit_delta,
    data_file,
    equality_delete,
    new_table,
    position_delete,
    read_pairs,
)


def _rewritten_keeping_deletes(tmp_path: Path) -> Table:
    """An aged table whose data files were all rewritten (deletes applied) while its three
    delete files stayed listed, as the sink's rewrite leaves them."""
    table = age(new_table(tmp_path))
    base = table.current_snapshot()
    assert base is not None
    files = live_files(table, base)
    added = write_data_files(table, read_snapshot(table))
    replace_commit(table, base, LiveFiles(files.data, []), added, base, files)
    return table.refresh()


def test_deletes_older_than_every_live_data_file_are_not_opened(tmp_path: Path) -> None:
    table = _rewritten_keeping_deletes(tmp_path)
    snapshot = table.current_snapshot()
    assert snapshot is not None
    listed = live_files(table, snapshot)
    assert (len(listed.data), len(listed.deletes)) == (1, 3)  # still listed, dangling
    data, deletes = read_files(table, snapshot)
    assert (len(data), deletes) == (1, [])
    assert read_pairs(table) == ORACLE


def test_a_delete_committed_after_the_rewrite_still_applies(tmp_path: Path) -> None:
    table = _rewritten_keeping_deletes(tmp_path)
    newer = data_file(table, [("a", 9), ("b", 7), ("b", 8)])
    deletes = [equality_delete(table, ["a", "b"]), position_delete(table, newer.file_path, [1])]
    table = commit_delta(table, [newer], deletes)
    snapshot = table.current_snapshot()
    assert snapshot is not None
    _, read = read_files(table, snapshot)
    assert sorted(ref.path for ref, _ in read) == sorted(f.file_path for f in deletes)
    assert read_pairs(table) == [("a", 9), ("b", 8), ("c", 4)]
