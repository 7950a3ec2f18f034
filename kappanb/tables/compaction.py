"""Compaction of an output table: its current snapshot rewritten into few data files with
every position and equality delete applied, committed while Flink keeps committing.

Optimistic concurrency: the rows are computed from snapshot S (kappanb's own merge-on-read,
`kappanb.tables.merge_read`) and written once; the commit requires ``main`` to still be the
head H it was built on, and a lost race (CommitFailedException) reloads the table and builds
again on the new head. Building on a head H newer than S keeps every file committed after
S, which is correct when

* H descends from S and every file live in S is still live in H (nothing else rewrote or
  removed them), and
* no position delete committed after S names a data file of S (Flink's upsert writer only
  names files of its own checkpoint; any other writer's would be lost with the old file).

Equality deletes committed after S need no check: their sequence numbers are higher than
S's, which the new files carry (see `kappanb.tables.rewrite_commit`). When a check fails the
rows are computed again from H. Attempts are bounded; giving up changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kappanb.exceptions import CompactionConflictError, CompactionUnsupportedError
from kappanb.tables.rewrite_commit import (
    LiveFiles,
    check_layout,
    live_files,
    replace_commit,
    write_data_files,
)

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Compacted:
    """What one compaction did to a table's current snapshot."""

    table: str
    files_before: int
    delete_files_before: int
    files_after: int
    delete_files_after: int
    rows: int  # live rows of the compacted snapshot S
    retries: int  # commits lost to a concurrent writer, then built again
    snapshot_id: int | None  # the new current snapshot; None when nothing was to do

    @property
    def changed(self) -> bool:
        return self.snapshot_id is not None


def compact_table(table: Table, *, max_attempts: int = MAX_ATTEMPTS) -> Compacted:
    """Rewrite the table's current snapshot (see the module's docstring); at most
    ``max_attempts`` commits are tried, counting a rewrite given up for a conflicting
    commit as one."""
    if (reason := check_layout(table)) is not None:
        raise CompactionUnsupportedError(f"cannot compact {table.name()[-1]}: {reason}")
    attempts = retries = 0
    while attempts < max_attempts:
        table = table.refresh()
        base = table.current_snapshot()
        base_files = live_files(table, base)
        if base is None or not _worth_it(base_files):
            return _result(table, base_files, base_files, retries, None)
        added, rows = _rewrite(table, base)
        committed, lost = _commit_rebasing(table, base, base_files, added, max_attempts - attempts)
        attempts, retries = attempts + max(lost, 1), retries + lost
        if committed:
            table = table.refresh()
            after = live_files(table, table.current_snapshot())
            return _result(table, base_files, after, retries, rows, table.current_snapshot())
    raise CompactionConflictError(
        f"compacting {table.name()[-1]} lost the race to other commits {retries} times "
        f"in {attempts} attempts; nothing was changed, try again"
    )


def _commit_rebasing(
    table: Table, base: Snapshot, base_files: LiveFiles, added: list[DataFile], chances: int
) -> tuple[bool, int]:
    """Commit ``added`` in place of S's files on the newest head, building again after a
    lost race while the head still allows it: (committed, races lost). Unless committed,
    the written files are deleted."""
    from pyiceberg.exceptions import CommitFailedException

    lost = 0
    try:
        while lost < chances:
            head = table.refresh().current_snapshot()
            assert head is not None  # it descends from S, or S is gone from its history
            same = head.snapshot_id == base.snapshot_id
            head_files = base_files if same else live_files(table, head)
            if not _can_rebase(table, base, base_files, head, head_files):
                break  # compute again from the new head
            try:
                replace_commit(table, base, base_files, added, head, head_files)
                return True, lost
            except CommitFailedException:
                lost += 1
    except BaseException:
        _discard(table, added)
        raise
    _discard(table, added)
    return False, lost


def _worth_it(files: LiveFiles) -> bool:
    """Something to gain: a delete file, or more than one data file."""
    return bool(files.deletes) or len(files.data) > 1


def _rewrite(table: Table, base: Snapshot) -> tuple[list[DataFile], int]:
    """S's rows, every delete applied, written as new data files (not yet committed)."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    from kappanb.tables.merge_read import merge, read_files

    data, deletes = read_files(table, base, table.schema())
    rows = merge(data, deletes, schema_to_pyarrow(table.schema(), include_field_ids=False))
    return write_data_files(table, rows), rows.num_rows


def _can_rebase(
    table: Table, base: Snapshot, base_files: LiveFiles, head: Snapshot, head_files: LiveFiles
) -> bool:
    if head.snapshot_id == base.snapshot_id:
        return True
    if not _descends(table, head, base.snapshot_id):
        return False
    if not base_files.paths <= head_files.paths:
        return False
    return not _position_deletes_name(table, head_files, base_files)


def _descends(table: Table, head: Snapshot, ancestor_id: int) -> bool:
    from pyiceberg.table.snapshots import ancestors_of

    return any(s.snapshot_id == ancestor_id for s in ancestors_of(head, table.metadata))


def _position_deletes_name(table: Table, head_files: LiveFiles, base_files: LiveFiles) -> bool:
    """Whether a position delete committed after S names one of S's data files."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped]
    from pyiceberg.manifest import DataFileContent

    old = {e.data_file.file_path for e in base_files.data}
    known = base_files.paths
    for entry in head_files.deletes:
        file = entry.data_file
        if file.file_path in known or file.content != DataFileContent.POSITION_DELETES:
            continue
        with table.io.new_input(file.file_path).open() as stream:
            named = pq.read_table(stream, columns=["file_path"]).column("file_path")
        if old & {str(p) for p in named.unique().to_pylist()}:
            return True
    return False


def _discard(table: Table, files: list[DataFile]) -> None:
    """Delete written data files no snapshot refers to."""
    for file in files:
        table.io.delete(file.file_path)


def _result(
    table: Table, before: LiveFiles, after: LiveFiles, retries: int, rows: int | None,
    snapshot: Snapshot | None = None,
) -> Compacted:  # fmt: skip
    if rows is None:
        rows = sum(e.data_file.record_count for e in before.data) if not before.deletes else 0
    return Compacted(
        table=table.name()[-1],
        files_before=len(before.data), delete_files_before=len(before.deletes),
        files_after=len(after.data), delete_files_after=len(after.deletes),
        rows=rows, retries=retries,
        snapshot_id=None if snapshot is None else snapshot.snapshot_id,
    )  # fmt: skip
