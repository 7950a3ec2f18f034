"""A row-level delete of an append-only Iceberg table (a topic's archive) by a polars
condition: copy-on-write, committed while Flink keeps appending, in the memory of one data
file.

pyiceberg 0.12's ``Table.delete`` would do copy-on-write too (it has no merge-on-read delete
writer; a v2 table's ``write.delete.mode=merge-on-read`` only gets a warning), but it writes
the surviving rows with pyiceberg's own parquet writer, which needs a newer pyarrow than
Flink's wheel allows (see `kappanb.tables.rewrite_commit`). So the condition is evaluated
file by file over the condition's columns only (`kappanb.tables.row_match`); a file with no
match is never read whole and stays as it is; a file holding a matching row is read, its
other rows are written to a new file with `write_data_files`, and it is let go before the
next one. One ``overwrite`` snapshot (``delete`` when no row is left to keep) swaps the
files at the end: all of them or, on any failure, none (the files written are deleted).
What stays in memory across files is the rows deleted and the new files' metadata. A
condition with an aggregate is exact too: ``fare = max(fare)`` means the table's maximum,
not each file's (its columns are read from every file before any match is decided). A row
for which the condition is NULL is kept.

Optimistic concurrency: the commit requires ``main`` to still be the head it was built on.
A lost race (Flink committed a checkpoint) refreshes the table: only the files committed
since are read (a whole-table condition is evaluated again over all live rows, so a long
first pass still wins), and a file whose matches did not change keeps the file written for
it. A file another writer removed is dropped from the work. Attempts are bounded; giving up
deletes the files this delete wrote and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]

from kappanb.exceptions import RowDeleteConflictError, RowDeleteUnsupportedError
from kappanb.tables.merge_read import FileRef, read_data_files
from kappanb.tables.rewrite_commit import (
    KEPT_SUMMARY_PREFIX,
    _added,
    _write_manifest,
    check_layout,
    commit_snapshot,
    live_files,
    write_data_files,
)
from kappanb.tables.row_match import ConditionScan

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile, ManifestEntry
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot, Summary

MAX_ATTEMPTS = 8
_NO_ROWS = pl.DataFrame()
"""The matched rows of a file without a match (never shown: only files with one are)."""
Record = Callable[[Mapping[str, str], pl.DataFrame], dict[str, str]]
"""From the table's properties and the rows a commit deletes, the properties it sets."""


@dataclass
class _Filtered:
    """One data file of the table, filtered: the rows that matched and what replaces it."""

    entry: ManifestEntry
    matched: pl.DataFrame
    mask: pl.Series | None
    """Which of its rows matched (they are deleted); None when none did."""
    written: list[DataFile] = field(default_factory=list)

    def same(self, mask: pl.Series) -> bool:
        """Whether ``mask`` matches the same rows as this filtering did."""
        if self.mask is None:
            return not mask.any()
        return self.mask.equals(mask)


@dataclass(frozen=True)
class RowDeletion:
    """What one row-level delete did."""

    table: str
    matched: pl.DataFrame
    """The rows deleted (every column), empty when none matched."""
    files_rewritten: int
    files_dropped: int
    retries: int
    snapshot_id: int | None
    """The snapshot the delete committed; None when no row matched (nothing committed)."""

    @property
    def rows(self) -> int:
        return self.matched.height


def delete_rows(
    table: Table, condition: pl.Expr, *, max_attempts: int = MAX_ATTEMPTS,
    record: Record | None = None, text: str | None = None,
) -> RowDeletion:  # fmt: skip
    """Delete the rows of ``table``'s current snapshot for which ``condition`` is true (see
    the module's docstring); rows committed by others while it works are filtered too.
    ``record`` gives table properties to set in the delete's commit (what it deleted);
    ``text``, the condition's SQL, lets files whose column bounds exclude a match go
    unread (`kappanb.tables.row_match`)."""
    if (reason := check_layout(table)) is not None:
        raise RowDeleteUnsupportedError(f"cannot delete rows of {table.name()[-1]}: {reason}")
    done: dict[str, _Filtered] = {}
    scan = ConditionScan(table, condition, text)
    retries = 0
    try:
        for _attempt in range(max_attempts):
            table = table.refresh()
            head = table.current_snapshot()
            if head is None:
                return _nothing(table, retries)
            entries = _live_data(table, head)
            _filter(table, entries, scan, done)
            hit = [f for f in done.values() if f.matched.height]
            if not hit:
                return _nothing(table, retries)
            committed = _commit(table, head, entries, hit, record)
            if committed is not None:
                return _result(table, hit, retries, committed)
            retries += 1
    except BaseException:
        _discard(table, done.values())
        raise
    _discard(table, done.values())
    raise RowDeleteConflictError(
        f"deleting rows of {table.name()[-1]} lost the race to other commits {retries} times; "
        "nothing was deleted. Try again (stopping the table's writer first makes it certain)"
    )


def matching_rows(
    table: Table, condition: pl.Expr, snapshot_id: int | None = None, text: str | None = None
) -> int:
    """How many rows of a snapshot (default: the current one) ``condition`` matches, read
    file by file (`kappanb.tables.row_match`); a snapshot with delete files is read whole,
    as merge-on-read gives it."""
    snapshot = (
        table.current_snapshot() if snapshot_id is None else table.snapshot_by_id(snapshot_id)
    )
    live = live_files(table, snapshot)
    if not live.deletes:
        return ConditionScan(table, condition, text).count(live.data)
    from kappanb.tables.merge_read import read_snapshot

    frame = pl.from_arrow(read_snapshot(table, snapshot_id))
    assert isinstance(frame, pl.DataFrame)
    return int(frame.select(condition.fill_null(False).sum()).item() or 0)


def deletable_files(table: Table) -> list[ManifestEntry]:
    """The live data files of the table's current snapshot, once it is known that rows of
    it can be deleted here (what `delete_rows` refuses, refused before any other step)."""
    if (reason := check_layout(table)) is not None:
        raise RowDeleteUnsupportedError(f"cannot delete rows of {table.name()[-1]}: {reason}")
    head = table.current_snapshot()
    return [] if head is None else _live_data(table, head)


def _live_data(table: Table, head: Snapshot) -> list[ManifestEntry]:
    live = live_files(table, head)
    if live.deletes:
        raise RowDeleteUnsupportedError(
            f"{table.name()[-1]} has delete files (it is not append-only): kappanb deletes "
            "rows of append-only tables (a topic's archive) only; nothing was deleted"
        )
    return live.data


def _filter(
    table: Table, entries: list[ManifestEntry], scan: ConditionScan, done: dict[str, _Filtered]
) -> None:
    """Per live file, its matching rows and the rest written anew, one file at a time. A
    file filtered before is not read again when the condition holds row by row (its rows
    cannot have changed); a file whose matches did not change keeps what was written."""
    live = {e.data_file.file_path for e in entries}
    for gone in [p for p in done if p not in live]:  # rewritten by another writer
        _discard(table, [done.pop(gone)])
    skip = set(done) if scan.row_wise else set()
    for entry, mask in scan.masks(entries, skip):
        path = entry.data_file.file_path
        known = done.get(path)
        if known is not None and known.same(mask):
            continue
        if known is not None:
            _discard(table, [known])
        done[path] = _filtered(table, entry, mask)


def _filtered(table: Table, entry: ManifestEntry, mask: pl.Series) -> _Filtered:
    """One file's matching rows, and its other rows written as a new file (none when all
    or none of its rows match). A file without a match is not read."""
    if not mask.any():
        return _Filtered(entry, _NO_ROWS, None)
    ((_ref, rows),) = read_data_files(table, [FileRef(entry.data_file.file_path, 0, 0, None)])
    frame = pl.from_arrow(rows)
    assert isinstance(frame, pl.DataFrame)
    matched = frame.filter(mask)
    filtered = _Filtered(entry, matched, mask)
    if matched.height < frame.height:
        filtered.written = write_data_files(table, rows.filter(pa.array((~mask).to_list())))
    return filtered


def _commit(
    table: Table, head: Snapshot, entries: list[ManifestEntry], hit: list[_Filtered],
    record: Record | None,
) -> int | None:  # fmt: skip
    """One snapshot on top of ``head``: the files with matches replaced by their kept rows;
    its id, or None when ``main`` moved on meanwhile (nothing committed)."""
    from pyiceberg.exceptions import CommitFailedException

    gone = {f.entry.data_file.file_path for f in hit}
    added = [file for f in hit for file in f.written]
    kept = [e for e in entries if e.data_file.file_path not in gone]
    snapshot_id = table.metadata.new_snapshot_id()
    manifest = _write_manifest(
        table, snapshot_id, deletes=False, added=[_added(f, None) for f in added],
        existing=kept, deleted=[f.entry for f in hit],
    )  # fmt: skip
    rows = sum(e.data_file.record_count for e in kept) + sum(f.record_count for f in added)
    summary = _summary(head, hit, added, files=len(kept) + len(added), rows=rows)
    deleted = pl.concat([f.matched for f in hit], how="vertical_relaxed")
    properties = record(table.metadata.properties, deleted) if record else None
    try:
        manifests = [] if manifest is None else [manifest]
        commit_snapshot(table, snapshot_id, head.snapshot_id, manifests, summary, properties)
    except CommitFailedException:
        return None
    return snapshot_id


def _summary(
    head: Snapshot, hit: list[_Filtered], added: list[DataFile], *, files: int, rows: int
) -> Summary:
    """An ``overwrite`` (or ``delete``) summary with the new totals; Flink's committer
    properties of the head carried over, as compaction does (`rewrite_commit._summary`)."""
    from pyiceberg.table.snapshots import Operation, Summary

    carried = (head.summary or Summary(Operation.APPEND)).additional_properties
    flink = {k: str(v) for k, v in carried.items() if k.startswith(KEPT_SUMMARY_PREFIX)}
    removed = [f.entry.data_file for f in hit]
    size = sum(f.file_size_in_bytes for f in added)
    totals: dict[str, Any] = {
        "added-data-files": str(len(added)),
        "deleted-data-files": str(len(removed)),
        "added-records": str(sum(f.record_count for f in added)),
        "deleted-records": str(sum(f.record_count for f in removed)),
        "kappanb.deleted-rows": str(sum(f.matched.height for f in hit)),
        "total-data-files": str(files),
        "total-delete-files": "0",
        "total-records": str(rows),
        "total-position-deletes": "0",
        "total-equality-deletes": "0",
    }
    if head.summary is not None and "total-files-size" in head.summary.additional_properties:
        before = int(head.summary.additional_properties["total-files-size"])
        gone = sum(f.file_size_in_bytes for f in removed)
        totals["total-files-size"] = str(max(0, before - gone + size))
    operation = Operation.OVERWRITE if added else Operation.DELETE
    return Summary(operation, **totals, **flink)


def _result(table: Table, hit: list[_Filtered], retries: int, snapshot_id: int) -> RowDeletion:
    return RowDeletion(
        table=table.name()[-1],
        matched=pl.concat([f.matched for f in hit], how="vertical_relaxed"),
        files_rewritten=sum(1 for f in hit if f.written),
        files_dropped=sum(1 for f in hit if not f.written),
        retries=retries,
        snapshot_id=snapshot_id,
    )  # fmt: skip


def table_schema(table: Table) -> pl.Schema:
    """The table's current schema as polars types (as `kappanb.tables.read` reads it)."""
    return _empty(table).schema


def _empty(table: Table) -> pl.DataFrame:
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    empty = pl.from_arrow(schema_to_pyarrow(table.schema(), include_field_ids=False).empty_table())
    assert isinstance(empty, pl.DataFrame)
    return empty


def _nothing(table: Table, retries: int) -> RowDeletion:
    return RowDeletion(table.name()[-1], _empty(table), 0, 0, retries, None)


def _discard(table: Table, filtered: Any) -> None:
    """Delete the files written for a commit that will not happen."""
    for f in filtered:
        for file in f.written:
            table.io.delete(file.file_path)
        f.written = []
