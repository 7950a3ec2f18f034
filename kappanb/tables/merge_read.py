"""Merge-on-read of an Iceberg snapshot: its data files minus its position and equality deletes.

Why: Flink's Iceberg sink in upsert mode (PRIMARY KEY, format version 2,
``write.upsert.enabled``) writes an updated key as an equality delete plus a new data row, and
a key replaced within one checkpoint as a position delete. pyiceberg 0.12 refuses to plan scans
with equality deletes and polars plans through pyiceberg, so neither reads the current value
per key of an updating query (GROUP BY without a window). This module plans from the
snapshot's manifests itself, reads the parquet files with pyarrow and anti-joins in polars
(one join per equality-field set, nulls equal).

Rules applied (Iceberg table spec, "Scan Planning"):

* An equality delete applies to a data file whose data sequence number is strictly lower
  than the delete file's; a row matches when all the delete's equality fields are equal,
  null matching null; the delete is scoped to its partition (same spec id and values), or
  global when its partition spec is unpartitioned.
* A position delete applies to a data file with the same ``file_path`` whose data sequence
  number is lower than or equal to the delete file's, at row position ``pos``.
* Sequence numbers come from the manifest entries (pyiceberg applies the inheritance rules).
* Columns are matched by Iceberg field id (the parquet ``PARQUET:field_id`` metadata), by
  name only for files without field ids, and returned in the table schema's order (the
  snapshot's schema when one is asked for by id); columns a file lacks come back as nulls.

Trade-off: every file of the snapshot is read on every call, delete files included, except
delete files that apply to no live data file by their sequence numbers (`applicable`). A job
that checkpoints often leaves many small data and delete files, so reads get slower as the
table ages until it is compacted (e.g. Iceberg's ``rewrite_data_files`` action). Applying
equality deletes costs a lookup per delete key, not per row: each older data file's key
hashes are sorted once per process and kept (`key_index`). Not supported: deletion vectors
(format v3, Puffin), ORC/Avro data files, nested equality fields.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from kappanb.tables import key_index
from kappanb.tables.key_index import KeyIndexes
from kappanb.tables.manifest_cache import ManifestCache

if TYPE_CHECKING:
    from pyiceberg.io import FileIO
    from pyiceberg.manifest import ManifestEntry, ManifestFile
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

DATA, POSITION_DELETES, EQUALITY_DELETES = 0, 1, 2
# Reserved field ids of a position-delete file's columns (spec: "Reserved Field IDs").
_POSITION_COLUMNS = ((2147483546, "file_path", pa.large_string()), (2147483545, "pos", pa.int64()))
# Bookkeeping column names; the double underscore keeps them apart from table columns.
_FILE, _SEQ, _PART, _ROW = "__file", "__seq", "__part", "__row"
_Columns = Sequence[tuple[int, str, Any]]  # (field id, output name, arrow type)
Loaded = tuple["FileRef", Any]  # a file and its rows as a pyarrow Table
MANIFESTS: ManifestCache[FileRef] = ManifestCache()
"""What the committed manifests read so far list (`plan_files`)."""
KEYS = KeyIndexes()
"""Key indexes of the data files `read_snapshot` applied equality deletes to (`merge`)."""


@dataclass(frozen=True)
class FileRef:
    """One live file of a snapshot, with what the delete rules need."""

    path: str
    content: int  # DATA, POSITION_DELETES or EQUALITY_DELETES
    sequence_number: int  # the data sequence number
    partition: str | None  # spec id and partition values; None when the spec is unpartitioned
    equality_ids: tuple[int, ...] = ()


def read_snapshot(table: Table, snapshot_id: int | None = None) -> pa.Table:
    """The rows of a snapshot (default: the current one) with every delete applied."""
    if snapshot_id is None:  # like pyiceberg's scans: the current schema
        snapshot, schema = table.current_snapshot(), table.schema()
    elif (snapshot := table.snapshot_by_id(snapshot_id)) is not None:  # time travel
        schema = _schema_of(table, snapshot)
    else:
        raise ValueError(f"table {table.name()} has no snapshot {snapshot_id}")
    if snapshot is None:
        return _arrow_schema(schema).empty_table()
    data, deletes = read_files(table, snapshot, schema)
    return merge(data, deletes, _arrow_schema(schema), KEYS)


def read_files(
    table: Table, snapshot: Snapshot, schema: Schema | None = None
) -> tuple[list[Loaded], list[Loaded]]:
    """The snapshot's data files (in ``schema``, default current) and delete files, read."""
    return read_all(table, applicable(plan_files(table, snapshot)), schema)


def read_all(
    table: Table, refs: Sequence[FileRef], schema: Schema | None = None
) -> tuple[list[Loaded], list[Loaded]]:
    """The data files of ``refs`` (in ``schema``, default current) and its delete files, read."""
    schema = table.schema() if schema is None else schema
    target = _arrow_schema(schema)
    data_cols = [(f.field_id, f.name, target.field(f.name).type) for f in schema.fields]
    ordered = [r for r in refs if r.content == DATA] + [r for r in refs if r.content != DATA]
    loaded = _read_all(  # one pool for both: a live table's files are many and small
        table.io,
        ordered,
        lambda r: data_cols if r.content == DATA else _delete_columns(r, schema, target),
    )
    split = sum(1 for r in refs if r.content == DATA)
    return loaded[:split], loaded[split:]


def read_data_files(
    table: Table, refs: Sequence[FileRef], schema: Schema | None = None
) -> list[Loaded]:
    """Data files read in ``schema`` (default: the table's current one), in ``refs``' order."""
    schema = table.schema() if schema is None else schema
    target = _arrow_schema(schema)
    columns = [(f.field_id, f.name, target.field(f.name).type) for f in schema.fields]
    return _read_all(table.io, list(refs), lambda _r: columns)


def plan_files(table: Table, snapshot: Snapshot) -> list[FileRef]:
    """Every live data and delete file of the snapshot, from its manifests (each decoded
    once per process: `manifest_cache`)."""
    specs = table.specs()

    def refs(manifest: ManifestFile) -> tuple[FileRef, ...]:
        def load() -> list[FileRef]:
            entries = manifest.fetch_manifest_entry(table.io, discard_deleted=True)
            return [_file_ref(entry, specs) for entry in entries]

        return MANIFESTS.get((manifest.manifest_path, manifest.sequence_number), load)

    return [ref for manifest in snapshot.manifests(table.io) for ref in refs(manifest)]


def applicable(refs: Sequence[FileRef]) -> list[FileRef]:
    """The data files, and the delete files that apply to at least one of them.

    A delete file left after every data file it could apply to was rewritten (a sink's
    rewrite keeps the deletes of any data file it did not rewrite, and Iceberg drops a
    delete only when older than every live data file) deletes nothing, by the spec's rules
    on sequence numbers alone: an equality delete applies to data files of a strictly lower
    data sequence number (of its partition, or of any when global), a position delete to
    lower or equal ones. Leaving such files out reads the same rows without opening them.
    """
    data = [r for r in refs if r.content == DATA]
    oldest = min((r.sequence_number for r in data), default=None)
    per_partition: dict[str | None, int] = {}
    for ref in data:
        seen = per_partition.get(ref.partition, ref.sequence_number)
        per_partition[ref.partition] = min(seen, ref.sequence_number)

    def applies(ref: FileRef) -> bool:
        if ref.content == DATA:
            return True
        if ref.content == POSITION_DELETES:  # matched by path: any partition, conservatively
            return oldest is not None and oldest <= ref.sequence_number
        floor = oldest if ref.partition is None else per_partition.get(ref.partition)
        return floor is not None and floor < ref.sequence_number

    return [r for r in refs if applies(r)]


def merge(
    data: Sequence[Loaded],
    deletes: Sequence[Loaded],
    target: pa.Schema,
    indexes: KeyIndexes | None = None,
) -> pa.Table:
    """Concatenate the data files' rows, less the rows the delete files delete.

    ``data`` tables have the ``target`` schema; position-delete tables have ``file_path`` and
    ``pos``; equality-delete tables have exactly the equality columns, named as in ``target``.
    Rows keep their order (files in ``data``'s order, each in its own).

    Cost: the rows an equality delete may match are looked up in each older data file's
    key index (`key_index`; kept in ``indexes`` when given, as `read_snapshot` does, since
    a file never changes, else built for this call); only those few rows (on a live table,
    a checkpoint's keys) are checked for keys, scope and sequence number, with the position
    deletes; then the rows are filtered once. Nothing else is done per row.
    """
    data = [(ref, rows) for ref, rows in data if rows.num_rows]
    if not data:
        return target.empty_table()
    combined = pa.concat_tables([rows for _, rows in data])
    if not deletes:
        return combined
    starts = [0]
    for _, rows in data:
        starts.append(starts[-1] + rows.num_rows)
    files = pl.DataFrame(
        {
            _FILE: [ref.path for ref, _ in data],
            "__start": starts[:-1],
            "__n": [rows.num_rows for _, rows in data],
            _SEQ: [ref.sequence_number for ref, _ in data],
            _PART: [ref.partition for ref, _ in data],
        },
        schema_overrides={"__start": pl.Int64, "__n": pl.Int64, _SEQ: pl.Int64, _PART: pl.String},
    )
    indexes = KeyIndexes() if indexes is None else indexes
    deleted = _deleted_rows(data, starts, combined, files, deletes, indexes)
    if deleted.is_empty():
        return combined
    keep = pl.repeat(True, combined.num_rows, eager=True).scatter(deleted, False)
    return combined.filter(keep.to_arrow())


def _deleted_rows(
    data: Sequence[Loaded],
    starts: Sequence[int],
    combined: pa.Table,
    files: pl.DataFrame,
    deletes: Sequence[Loaded],
    indexes: KeyIndexes,
) -> pl.Series:
    """Indexes of the rows of ``combined`` (the concatenation of ``files``) some delete
    deletes."""
    hits = []
    if positional := [(ref, rows) for ref, rows in deletes if ref.content == POSITION_DELETES]:
        hits.append(_position_hits(files, positional))
    groups = _equality_groups(deletes)
    if groups and len(rows := _candidates(data, starts, groups, indexes).alias(_ROW)):
        key_names = sorted({name for keys in groups for name in keys})
        frame = pl.DataFrame(combined.take(rows.to_arrow()).select(key_names)).with_columns(
            _file_columns(files, rows)
        )
        hits += [_equality_hits(frame, list(keys), loaded) for keys, loaded in groups.items()]
    if not hits:
        return pl.Series(_ROW, [], pl.Int64)
    return pl.concat(hits).unique()


def _schema_of(table: Table, snapshot: Snapshot) -> Schema:
    """The schema the snapshot was written with, else the table's current one."""
    if snapshot.schema_id is not None:
        found = table.schemas().get(snapshot.schema_id)
        if found is not None:
            return found
    return table.schema()


def _arrow_schema(schema: Schema) -> pa.Schema:
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    return schema_to_pyarrow(schema, include_field_ids=False)


def _file_ref(entry: ManifestEntry, specs: dict[int, PartitionSpec]) -> FileRef:
    file = entry.data_file
    if file.file_format.value != "PARQUET":
        raise NotImplementedError(
            f"cannot read {file.file_format.value} file {file.file_path}: only parquet data and "
            "delete files are supported (no deletion vectors)"
        )
    if entry.sequence_number is None:
        raise ValueError(f"manifest entry for {file.file_path} has no data sequence number")
    spec = specs[file.spec_id]
    partition = None if spec.is_unpartitioned() else f"{file.spec_id}:{file.partition!r}"
    return FileRef(
        path=file.file_path,
        content=int(file.content),
        sequence_number=entry.sequence_number,
        partition=partition,
        equality_ids=tuple(file.equality_ids or ()),
    )


def _delete_columns(ref: FileRef, schema: Schema, target: pa.Schema) -> _Columns:
    if ref.content == POSITION_DELETES:
        return _POSITION_COLUMNS
    names = {f.field_id: f.name for f in schema.fields}
    if missing := [i for i in ref.equality_ids if i not in names]:
        raise NotImplementedError(f"equality delete {ref.path}: field ids {missing} not top-level")
    return [(i, names[i], target.field(names[i]).type) for i in ref.equality_ids]


def _read_all(
    io: FileIO, refs: list[FileRef], columns: Callable[[FileRef], _Columns]
) -> list[Loaded]:
    """Read the files in parallel (pyarrow releases the GIL while decoding)."""
    workers = min(8, 2 * (os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        tables = list(pool.map(lambda r: _read_parquet(io, r.path, columns(r)), refs))
    return list(zip(refs, tables, strict=True))


def _read_parquet(io: FileIO, path: str, columns: _Columns) -> pa.Table:
    """The file's columns by field id (by name if it has none), cast to the wanted types."""
    with io.new_input(path).open() as stream:
        parquet = pq.ParquetFile(stream)
        fields = parquet.schema_arrow
        by_id = {
            int(f.metadata[b"PARQUET:field_id"]): f.name
            for f in fields
            if f.metadata and b"PARQUET:field_id" in f.metadata
        }
        if not by_id:
            by_id = {i: name for i, name, _ in columns if name in fields.names}
        wanted = [by_id.get(i) for i, _, _ in columns]
        rows = parquet.read(columns=[w for w in wanted if w is not None])
        num_rows = parquet.metadata.num_rows
    arrays = [
        pa.nulls(num_rows, kind) if source is None else rows.column(source).cast(kind)
        for source, (_, _, kind) in zip(wanted, columns, strict=True)
    ]
    return pa.table(arrays, names=[name for _, name, _ in columns])


def _tagged(files: Sequence[Loaded]) -> pl.DataFrame:
    """Delete files' rows (same columns), each with its file's sequence number and
    partition: one frame built once, however many files (a frame per file costs more
    than a checkpoint's few rows)."""
    starts, total = [], 0
    for _, rows in files:
        starts.append(total)
        total += rows.num_rows
    which = (
        pl.Series(starts, dtype=pl.Int64).search_sorted(
            pl.int_range(0, total, eager=True), side="right"
        )
        - 1
    )  # the file of each row (an empty file has none)
    seqs = pl.Series("__dseq", [ref.sequence_number for ref, _ in files], pl.Int64)
    parts = pl.Series(_PART, [ref.partition for ref, _ in files], pl.String)
    rows = pa.concat_tables([rows for _, rows in files])
    return pl.DataFrame(rows).with_columns(seqs.gather(which), parts.gather(which))


def _equality_groups(deletes: Sequence[Loaded]) -> dict[tuple[str, ...], list[Loaded]]:
    """The non-empty equality-delete files, by their set of equality columns."""
    groups: dict[tuple[str, ...], list[Loaded]] = {}
    for ref, rows in deletes:
        if ref.content == EQUALITY_DELETES and rows.num_rows:
            groups.setdefault(tuple(rows.column_names), []).append((ref, rows))
    return groups


def _candidates(
    data: Sequence[Loaded],
    starts: Sequence[int],
    groups: dict[tuple[str, ...], list[Loaded]],
    indexes: KeyIndexes,
) -> pl.Series:
    """Indexes (in the concatenation of ``data``) of the rows whose key hashes like a key
    of some delete, in files older than that delete: a superset of the rows an equality
    delete deletes, found in each file's key index (`key_index`)."""
    found = []
    for keys, files in groups.items():
        newest = max(ref.sequence_number for ref, _ in files)
        wanted = _tagged(files).select(
            key_index.hashes(pa.concat_tables([rows for _, rows in files]), keys).alias("h"),
            "__dseq",
        )
        older = [(ref, rows, start) for (ref, rows), start in zip(data, starts, strict=False)
                 if ref.sequence_number < newest]  # fmt: skip
        for ref, rows, start in older:
            if rows.num_rows >= key_index.MIN_ROWS:  # only the deletes newer than the file
                newer = wanted.filter(pl.col("__dseq") > ref.sequence_number)["h"].unique()
                index = indexes.index(ref.path, rows, keys)
                found.append(key_index.candidates(index, newer) + start)
        if small := [(rows, start) for _, rows, start in older
                     if rows.num_rows < key_index.MIN_ROWS]:  # fmt: skip
            hashed = key_index.hashes(pa.concat_tables([rows for rows, _ in small]), keys)
            at = [start + i for rows, start in small for i in range(rows.num_rows)]
            every = wanted["h"].unique().implode()
            found.append(pl.Series(at, dtype=pl.Int64).filter(hashed.is_in(every)))
    return pl.concat(found).unique().sort() if found else pl.Series(_ROW, [], pl.Int64)


def _file_columns(files: pl.DataFrame, rows: pl.Series) -> list[pl.Series]:
    """For the rows at indexes ``rows`` of the concatenated data: the index, and the
    sequence number and partition of the file each comes from."""
    which = files["__start"].search_sorted(rows, side="right") - 1
    return [rows, files[_SEQ].gather(which), files[_PART].gather(which)]


def _position_hits(files: pl.DataFrame, deletes: Sequence[Loaded]) -> pl.Series:
    """Row indexes a position delete deletes: it names the file, at a sequence number at
    least the file's."""
    named = _tagged(deletes).drop(_PART)
    return (
        named.join(files, left_on="file_path", right_on=_FILE)
        .filter((pl.col("__dseq") >= pl.col(_SEQ)) & (pl.col("pos") < pl.col("__n")))
        .select((pl.col("__start") + pl.col("pos")).cast(pl.Int64).alias(_ROW))[_ROW]
    )


def _equality_hits(frame: pl.DataFrame, keys: list[str], files: list[Loaded]) -> pl.Series:
    """Row indexes one equality-field set's deletes delete: equal keys (null matching
    null), in scope (global, or the row's partition), at a strictly higher sequence number
    than the row's file."""
    deletes = _tagged(files)  # only the deletes of a candidate's key: often far fewer
    deletes = deletes.join(frame.select(keys).unique(), on=keys, how="semi", nulls_equal=True)
    hits = []
    for is_global, on in ((True, keys), (False, [*keys, _PART])):
        scoped = deletes.filter(pl.col(_PART).is_null() == is_global)
        if scoped.is_empty():
            continue
        latest = scoped.group_by(on).agg(pl.col("__dseq").max())
        matched = frame.join(latest, on=on, how="inner", nulls_equal=True)
        hits.append(matched.filter(pl.col("__dseq") > pl.col(_SEQ))[_ROW])
    return pl.concat(hits) if hits else pl.Series(_ROW, [], pl.Int64)
