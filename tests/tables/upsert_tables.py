"""Hand-made Iceberg tables that look like Flink's upsert sink wrote them, without Flink.

`commit_delta` commits what one Flink checkpoint commits (a RowDelta): new data files,
equality-delete files and position-delete files, every file already live kept. A pyiceberg
SqlCatalog on a tmp SQLite file holds the table.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Operation, Snapshot, Summary
from pyiceberg.typedef import Record
from pyiceberg.types import LongType, NestedField, StringType

from kappanb.tables.rewrite_commit import (
    _added,
    _write_manifest,
    commit_snapshot,
    live_files,
    write_data_files,
)

SCHEMA = Schema(
    NestedField(1, "k", StringType(), required=True),
    NestedField(2, "n", LongType(), required=False),
    identifier_field_ids=[1],
)
POSITION_SCHEMA = pa.schema(
    [
        pa.field("file_path", pa.string(), False, {b"PARQUET:field_id": b"2147483546"}),
        pa.field("pos", pa.int64(), False, {b"PARQUET:field_id": b"2147483545"}),
    ]
)


def new_table(tmp_path: Path, name: str = "t") -> Table:
    catalog = SqlCatalog(
        "test", uri=f"sqlite:///{tmp_path / 'catalog.db'}", warehouse=(tmp_path / "wh").as_uri()
    )
    (tmp_path / "wh").mkdir(exist_ok=True)
    catalog.create_namespace_if_not_exists("default")
    return catalog.create_table(
        ("default", name), SCHEMA, properties={"format-version": "2", "flink.job": "x"}
    )


def rows(pairs: list[tuple[str, int]]) -> pa.Table:
    return pa.table(
        {"k": [k for k, _ in pairs], "n": [n for _, n in pairs]},
        schema=pa.schema([pa.field("k", pa.large_string(), False), pa.field("n", pa.int64())]),
    )


def _delete_file(table: Table, content: DataFileContent, frame: pa.Table, **extra: Any) -> DataFile:
    location = table.location_provider().new_data_location(f"del-{uuid.uuid4()}.parquet")
    with table.io.new_output(location).create() as stream:
        pq.write_table(frame, stream)
    return DataFile.from_args(
        content=content, file_path=location, file_format=FileFormat.PARQUET,
        partition=Record(), record_count=frame.num_rows,
        file_size_in_bytes=len(table.io.new_input(location)), spec_id=0, **extra,
    )  # fmt: skip


def equality_delete(table: Table, keys: list[str]) -> DataFile:
    field = pa.field("k", pa.string(), False, {b"PARQUET:field_id": b"1"})
    frame = pa.table({"k": keys}, schema=pa.schema([field]))
    return _delete_file(table, DataFileContent.EQUALITY_DELETES, frame, equality_ids=[1])


def position_delete(table: Table, path: str, positions: list[int]) -> DataFile:
    frame = pa.table({"file_path": [path] * len(positions), "pos": positions}, POSITION_SCHEMA)
    return _delete_file(table, DataFileContent.POSITION_DELETES, frame)


def data_file(table: Table, pairs: list[tuple[str, int]]) -> DataFile:
    (written,) = write_data_files(table, rows(pairs))
    return written


def commit_delta(
    table: Table, data: list[DataFile], deletes: list[DataFile], *, head: Snapshot | None = None
) -> Table:
    """One RowDelta on top of ``head`` (default: the current snapshot)."""
    table = table.refresh()
    head = table.current_snapshot() if head is None else head
    live = live_files(table, head)
    snapshot_id = table.metadata.new_snapshot_id()
    manifests = [
        m for m in (
            _write_manifest(table, snapshot_id, deletes=False, existing=live.data, deleted=[],
                            added=[_added(f, None) for f in data]),
            _write_manifest(table, snapshot_id, deletes=True, existing=live.deletes, deleted=[],
                            added=[_added(f, None) for f in deletes]),
        ) if m is not None
    ]  # fmt: skip
    parent_id = None if head is None else head.snapshot_id
    summary = Summary(
        Operation.OVERWRITE, **{"flink.max-committed-checkpoint-id": str(snapshot_id)}
    )
    commit_snapshot(table, snapshot_id, parent_id, manifests, summary)
    return table.refresh()


ORACLE = [("a", 2), ("b", 3), ("c", 4)]
"""The live rows of an `age`d table."""


def age(table: Table) -> Table:
    """Three checkpoints of an upsert: a, b, c; then a and b updated (b twice in one
    checkpoint: a position delete); then c updated. Live: `ORACLE`."""
    table = commit_delta(table, [data_file(table, [("a", 1), ("b", 1), ("c", 1)])], [])
    second = data_file(table, [("a", 2), ("b", 2), ("b", 3)])
    deletes = [equality_delete(table, ["a", "b"]), position_delete(table, second.file_path, [1])]
    table = commit_delta(table, [second], deletes)
    return commit_delta(table, [data_file(table, [("c", 4)])], [equality_delete(table, ["c"])])


def read_pairs(table: Table) -> list[tuple[str, int]]:
    """The table's current rows as kappanb's `read` merges them, as sorted (k, n) pairs."""
    from kappanb.tables.merge_read import read_snapshot

    return sorted((r["k"], r["n"]) for r in read_snapshot(table.refresh()).to_pylist())
