"""A deletion request (`forget TOPIC --where ...`): the matching events out of the topic's
archive, tombstones for their keys on a compacted topic, and what is left to do (the
outputs that may hold rows derived from them, the log's retention against a deadline).

Order, so that a failure half-way loses nothing a second `forget` needs: the matching rows
are found first (their keys and partitions come from the archive's ``kafka_key`` and
``kafka_partition``), then the tombstones are written, then the rows are deleted (exactly
the rows the condition matches, `kappanb.tables.row_delete`); a tombstone failure leaves the
archive as it was, so `forget` again finds the same keys. Rows the archive appended
meanwhile that match are deleted too, and get their tombstones after the delete.

Memory: the archive is read one data file at a time, in the columns each step needs (the
condition's; partition and offset; the key where a row matches), and only the files with
a match are read whole (`kappanb.tables.row_match`; a file whose column bounds exclude a
match is not read for the condition at all); what is held across files is the deleted
rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import polars as pl

from kappanb.exceptions import WhereError
from kappanb.history.forget_deadline import DEFAULT_SEGMENT_MS, NO_BOUND, LogDeadline, LogPolicy
from kappanb.history.forget_report import DerivedTable, ForgetReport, Tombstones
from kappanb.kafka.connection import KafkaConnection
from kappanb.kafka.log_extent import LogExtent, log_extent
from kappanb.kafka.tombstones import write_tombstones
from kappanb.kafka.topics import describe_topic
from kappanb.registry.base import Registry
from kappanb.registry.records import TopicSpec
from kappanb.tables.archive_coverage import record_deleted
from kappanb.tables.catalog import Catalog, table_exists
from kappanb.tables.expiry import Expired, expire_snapshots
from kappanb.tables.read import scan_table
from kappanb.tables.row_delete import (
    RowDeletion,
    deletable_files,
    delete_rows,
    matching_rows,
    table_schema,
)
from kappanb.tables.row_match import ConditionScan, file_frames
from kappanb.tables.where import Where, check_where
from kappanb.versions.archive_ddl import KEY, OFFSET, PARTITION, TIMESTAMP

NEVER_RUN = (
    "never run, no output yet; a run from the log would read the events while the log holds "
    "them: start it from the archive"
)
Pair = tuple[int, bytes]
"""A partition and a record key: where a tombstone goes."""


@dataclass(frozen=True)
class ForgetRequest:
    """What to forget, where the archive is, and the deadline the log is held to."""

    topic: TopicSpec
    where: Where
    archive: str
    deadline_ms: int
    expire_history: bool = False
    """Expire the archive's snapshots before the delete, deleting the files only they
    reach: time travel no longer shows the events (nor anything else before the delete)."""


def forget_events(
    request: ForgetRequest, catalog: Catalog, kafka: KafkaConnection, registry: Registry
) -> ForgetReport:
    """Carry out ``request`` (see the module's docstring) and report."""
    table = catalog.open().load_table(("default", request.archive))
    check_where(request.where, table_schema(table), request.archive)
    found = _survey(table, request.where, request.archive)
    extent = log_extent(kafka, request.topic.name, window_ms=60_000)  # before any tombstone
    config = describe_topic(kafka, request.topic.name).config
    compacted = "compact" in config.get("cleanup.policy", "")
    sent = _tombstone(kafka, request.topic.name, found.pairs) if compacted else set()
    deletion = _deleted(table, request.where, request.archive)
    late = _pairs(deletion.matched) - sent if compacted else set()
    if late:
        sent |= _tombstone(kafka, request.topic.name, late)
    left = matching_rows(
        table.refresh(), request.where.expr, deletion.snapshot_id, request.where.text
    )
    history = _expire(table, deletion.snapshot_id) if request.expire_history else None
    keyless = int(deletion.matched.get_column(KEY).null_count()) if deletion.rows else 0
    return ForgetReport(
        topic=request.topic.name, where=request.where.text, archive=request.archive,
        deleted=deletion.rows, files_rewritten=deletion.files_rewritten,
        files_dropped=deletion.files_dropped, snapshot_id=deletion.snapshot_id, left=left,
        unarchived=_unarchived(found.highest, extent),
        tombstones=Tombstones(compacted, len(sent), keyless if compacted else 0),
        derived=derived_tables(registry, catalog, request.topic.name, request.where),
        log=_log_deadline(request, config, extent, deletion.matched), history=history,
    )  # fmt: skip


def _expire(table: Any, snapshot_id: int | None) -> Expired:
    """Expire every snapshot before the delete's (before the current one, if none)."""
    table = table.refresh()
    snapshot = (
        table.current_snapshot() if snapshot_id is None else table.snapshot_by_id(snapshot_id)
    )
    return expire_snapshots(table, snapshot.timestamp_ms) if snapshot else Expired(0, 0)


@dataclass(frozen=True)
class _Survey:
    """What the archive holds before the delete: where the matching rows' tombstones go,
    and per partition the highest offset it has."""

    pairs: set[Pair]
    highest: dict[int, int]


def _survey(table: Any, where: Where, archive: str) -> _Survey:
    """The archive's current snapshot, file by file; the condition evaluated on every file,
    so a value that does not fit (a type polars only meets in the rows) fails before any
    change."""
    entries = deletable_files(table)
    pairs: set[Pair] = set()
    highest: dict[int, int] = {}
    frames = file_frames(table, entries, [PARTITION, OFFSET])
    with _where_errors(where, archive):
        for (entry, mask), (_same, frame) in zip(
            ConditionScan(table, where.expr, where.text).masks(entries), frames, strict=True
        ):
            tops = frame.group_by(PARTITION).agg(pl.col(OFFSET).max())
            for partition, offset in tops.drop_nulls().iter_rows():
                highest[int(partition)] = max(int(offset), highest.get(int(partition), -1))
            if mask.any():  # the keys of a file with a match
                ((_file, keys),) = file_frames(table, [entry], [PARTITION, KEY])
                pairs |= _pairs(keys.filter(mask))
    return _Survey(pairs, highest)


def _deleted(table: Any, where: Where, archive: str) -> RowDeletion:
    with _where_errors(where, archive):
        return delete_rows(table, where.expr, record=record_deleted, text=where.text)


@contextmanager
def _where_errors(where: Where, archive: str) -> Iterator[None]:
    """A polars error evaluating the condition as a `WhereError` (nothing changed yet)."""
    try:
        yield
    except pl.exceptions.PolarsError as exc:
        first = str(exc).splitlines()[0]
        raise WhereError(
            f"--where {where.text!r} failed on {archive}: {first}; nothing was deleted"
        ) from None


def _pairs(rows: pl.DataFrame) -> set[Pair]:
    """(partition, key) of the rows that have a key."""
    if not rows.height:
        return set()
    keyed = rows.select(PARTITION, KEY).drop_nulls().unique()
    return {(int(p), bytes(k)) for p, k in keyed.iter_rows()}


def _tombstone(kafka: KafkaConnection, topic: str, pairs: set[Pair]) -> set[Pair]:
    write_tombstones(kafka, topic, pairs)
    return pairs


def _unarchived(highest: dict[int, int], extent: LogExtent) -> int:
    """Records in the log past the highest offset the archive holds, per partition."""
    return sum(
        max(0, p.head - max(p.earliest, highest.get(p.partition, -1) + 1))
        for p in extent.partitions
    )


def _log_deadline(
    request: ForgetRequest, config: dict[str, Any], extent: LogExtent, deleted: pl.DataFrame
) -> LogDeadline:
    """The deleted events still in the log, and when the log drops them."""
    firsts = {p.partition: p.earliest for p in extent.partitions}
    in_log = deleted.filter(
        pl.col(OFFSET) >= pl.col(PARTITION).replace_strict(firsts, default=0, return_dtype=pl.Int64)
    ) if deleted.height else deleted  # fmt: skip
    newest = in_log.get_column(TIMESTAMP).max() if in_log.height else None
    newest_ms = None if newest is None else int(newest.timestamp() * 1000)  # type: ignore[union-attr]
    policy = LogPolicy(
        cleanup=str(config.get("cleanup.policy", "delete")),
        retention_ms=_int(config, "retention.ms", -1),
        segment_ms=_int(config, "segment.ms", DEFAULT_SEGMENT_MS),
        max_compaction_lag_ms=_int(config, "max.compaction.lag.ms", NO_BOUND),
        delete_retention_ms=_int(config, "delete.retention.ms", 86_400_000),
    )
    return LogDeadline(request.topic.name, policy, request.deadline_ms, int(time.time() * 1000),
                       in_log.height, newest_ms)  # fmt: skip


def _int(config: dict[str, Any], name: str, default: int) -> int:
    try:
        return int(config.get(name, default))
    except (TypeError, ValueError):
        return default


def derived_tables(
    registry: Registry, catalog: Catalog, topic: str, where: Where
) -> tuple[DerivedTable, ...]:
    """The output tables of every job version that reads ``topic``, checked row by row where
    the table has the condition's columns; a version never run, as one without a table (a
    dropped table holds nothing). A version reading a newer topic version that follows
    ``topic`` reads it too (`kappanb.versions.chain`)."""
    followers = {t.name for t in registry.topics() if t.follows == topic}
    found = []
    for job_version in registry.versions():
        job, number, sources = job_version.job, job_version.version, job_version.sources
        through = sorted(followers & set(sources)) if topic not in sources else []
        if topic not in sources and not through:
            continue
        via = through[0] if through else ""
        runs = registry.runs(job, number)
        if not runs:
            found.append(DerivedTable(job, number, "-", None, NEVER_RUN, via))
        for name in dict.fromkeys(r.table for r in runs if r.mode != "archive"):
            if table_exists(catalog, name):
                matching, note = _check(catalog, name, where)
                found.append(DerivedTable(job, number, name, matching, note, via))
    return tuple(found)


def _check(catalog: Catalog, name: str, where: Where) -> tuple[int | None, str]:
    """Matching rows of an output table, and what that says."""
    frame = scan_table(catalog, name)
    schema = frame.collect_schema()
    missing = [c for c in where.columns if c not in schema]
    if missing:
        return None, (
            f"no column {', '.join(missing)}: it cannot be checked row by row, and its rows "
            "(aggregates) may derive from the events"
        )
    try:
        count = int(frame.select(where.expr.fill_null(False).sum()).collect().item() or 0)
    except pl.exceptions.PolarsError as exc:
        return None, f"could not be checked ({str(exc).splitlines()[0]})"
    if count:
        return count, f"{count:,} row(s) match the condition"
    return 0, "no row matches, but aggregates over the events (counts, sums) may include them"
