"""One compaction commit: new data files replacing every live file of a base snapshot.

pyiceberg 0.12 cannot express this through its public API: ``overwrite`` drops data files
only (a delete file passed to ``delete_data_file`` fails its "required deletes" check), it
has no writer for delete manifests, and it cannot give an added file an older data sequence
number. So this module writes the manifests, the manifest list and the snapshot itself with
pyiceberg's manifest writers, and commits with ``catalog.commit_table`` under the
requirement that ``main`` still points at the head it was built on (the catalog compares and
swaps the metadata location; Flink's JDBC and REST commits do the same).

Sequence numbers (Iceberg spec, "Scan Planning"): an equality delete applies to data files
with a strictly lower data sequence number. The new files hold the base snapshot S's rows
with S's deletes applied, so they are ADDED with S's sequence number as their data sequence
number (what Java's ``RewriteFiles`` does with ``use-starting-sequence-number``): a delete
committed after S (a higher number) still applies to them, and S's own deletes, already
applied, are dropped. Files committed after S are kept as EXISTING with their numbers, so
rebasing onto a newer head changes no row. Parquet only; format version 2; unpartitioned.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile, ManifestEntry, ManifestFile
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot, Summary

FILE_ROWS = 1_000_000  # rows per compacted data file
KEPT_SUMMARY_PREFIX = "flink."  # Flink's committer finds its last checkpoint here
CHECKPOINT_KEY = "flink.max-committed-checkpoint-id"


@dataclass(frozen=True)
class LiveFiles:
    """A snapshot's live manifest entries (data sequence numbers inherited), by content."""

    data: list[ManifestEntry]
    deletes: list[ManifestEntry]

    @property
    def paths(self) -> set[str]:
        return {e.data_file.file_path for e in [*self.data, *self.deletes]}


def live_files(table: Table, snapshot: Snapshot | None) -> LiveFiles:
    from pyiceberg.manifest import DataFileContent

    if snapshot is None:
        return LiveFiles([], [])
    entries = [
        entry
        for manifest in snapshot.manifests(table.io)
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True)
    ]
    data = [e for e in entries if e.data_file.content == DataFileContent.DATA]
    return LiveFiles(data, [e for e in entries if e.data_file.content != DataFileContent.DATA])


def write_data_files(table: Table, rows: pa.Table) -> list[DataFile]:
    """Write ``rows`` (in the table's current schema) as parquet files with Iceberg field
    ids and column statistics, under the table's data location."""
    from pyiceberg.io.pyarrow import (
        compute_statistics_plan,
        data_file_statistics_from_parquet_metadata,
        parquet_path_to_id_mapping,
        schema_to_pyarrow,
    )
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
    from pyiceberg.typedef import Record

    schema = table.schema()
    arrow_schema = schema_to_pyarrow(schema, include_field_ids=True)
    files = []
    for start in range(0, rows.num_rows, FILE_ROWS):
        chunk = rows.slice(start, FILE_ROWS).cast(arrow_schema)
        location = table.location_provider().new_data_location(f"compact-{uuid.uuid4()}.parquet")
        output = table.io.new_output(location)
        with output.create(overwrite=False) as stream:
            writer = pq.ParquetWriter(stream, arrow_schema)
            writer.write_table(chunk)
            writer.close()
        metadata = writer.writer.metadata
        stats = data_file_statistics_from_parquet_metadata(
            parquet_metadata=metadata,
            stats_columns=compute_statistics_plan(schema, table.metadata.properties),
            parquet_column_mapping=parquet_path_to_id_mapping(schema),
        )
        files.append(
            DataFile.from_args(
                content=DataFileContent.DATA,
                file_path=location,
                file_format=FileFormat.PARQUET,
                partition=Record(),
                file_size_in_bytes=len(table.io.new_input(location)),
                sort_order_id=None,
                spec_id=table.spec().spec_id,
                equality_ids=None,
                key_metadata=None,
                **stats.to_serialized_dict(),
            )
        )
    return files


def check_layout(table: Table) -> str | None:
    """Why this module cannot rewrite the table, or None when it can."""
    if table.metadata.format_version != 2:
        return f"format version {table.metadata.format_version} (only version 2 is rewritten)"
    if not table.spec().is_unpartitioned() or len(table.specs()) > 1:
        return "a partitioned table (kappanb writes its output tables unpartitioned)"
    return None


def replace_commit(
    table: Table,
    base: Snapshot,
    base_files: LiveFiles,
    added: Sequence[DataFile],
    head: Snapshot,
    head_files: LiveFiles,
) -> None:
    """Commit a ``replace`` snapshot on top of ``head``: ``added`` (data sequence number of
    ``base``) instead of every live file of ``base``; files committed after ``base`` kept.
    Raises pyiceberg's CommitFailedException when ``main`` has moved past ``head``."""
    metadata = table.metadata
    snapshot_id = metadata.new_snapshot_id()
    gone = base_files.paths
    data_manifest = _write_manifest(
        table, snapshot_id, deletes=False,
        added=[_added(f, base.sequence_number) for f in added],
        existing=[e for e in head_files.data if e.data_file.file_path not in gone],
        deleted=base_files.data,
    )  # fmt: skip
    delete_manifest = _write_manifest(
        table, snapshot_id, deletes=True, added=[],
        existing=[e for e in head_files.deletes if e.data_file.file_path not in gone],
        deleted=[],  # dropped delete files are simply no longer listed
    )  # fmt: skip
    live = LiveFiles(
        [*[_added(f, base.sequence_number) for f in added],
         *[e for e in head_files.data if e.data_file.file_path not in gone]],
        [e for e in head_files.deletes if e.data_file.file_path not in gone],
    )  # fmt: skip
    commit_snapshot(
        table, snapshot_id, head.snapshot_id,
        [m for m in (data_manifest, delete_manifest) if m is not None],
        _summary(_flink_commit(table, head), live, added=len(added), removed=len(gone)),
    )  # fmt: skip


def commit_snapshot(
    table: Table, snapshot_id: int, parent_id: int | None, manifests: list[ManifestFile],
    summary: Summary, properties: dict[str, str] | None = None,
) -> None:  # fmt: skip
    """Write the manifest list and commit the snapshot as ``main``'s new head, on condition
    that ``main`` is still ``parent_id``, with ``properties`` set on the table in the same
    commit; on failure, delete this attempt's metadata files."""
    from pyiceberg.table.refs import MAIN_BRANCH, SnapshotRefType
    from pyiceberg.table.snapshots import Snapshot
    from pyiceberg.table.update import (
        AddSnapshotUpdate,
        AssertRefSnapshotId,
        SetPropertiesUpdate,
        SetSnapshotRefUpdate,
        TableUpdate,
    )

    sequence_number = table.metadata.next_sequence_number()
    manifest_list = _write_manifest_list(table, snapshot_id, parent_id, sequence_number, manifests)
    # pyiceberg's models take field names (populate_by_name); its stubs only know aliases.
    fields: dict[str, Any] = {
        "snapshot_id": snapshot_id, "parent_snapshot_id": parent_id,
        "manifest_list": manifest_list, "sequence_number": sequence_number,
        "summary": summary, "schema_id": table.metadata.current_schema_id,
    }  # fmt: skip
    snapshot = Snapshot(**fields)
    head: dict[str, Any] = {"snapshot_id": parent_id, "ref": MAIN_BRANCH}
    move: dict[str, Any] = {
        "snapshot_id": snapshot_id, "parent_snapshot_id": parent_id,
        "ref_name": MAIN_BRANCH, "type": SnapshotRefType.BRANCH,
    }  # fmt: skip
    updates: tuple[TableUpdate, ...] = (
        AddSnapshotUpdate(snapshot=snapshot), SetSnapshotRefUpdate(**move),
    )  # fmt: skip
    if properties:
        updates += (SetPropertiesUpdate(updates=properties),)
    try:
        table.catalog.commit_table(table, (AssertRefSnapshotId(**head),), updates)
    except Exception:
        for path in [*(m.manifest_path for m in manifests), manifest_list]:
            table.io.delete(path)  # this attempt's metadata files: nothing refers to them
        raise


def _added(file: DataFile, data_sequence_number: int | None) -> ManifestEntry:
    from pyiceberg.manifest import ManifestEntry, ManifestEntryStatus

    return ManifestEntry.from_args(
        status=ManifestEntryStatus.ADDED, snapshot_id=None,
        sequence_number=data_sequence_number, file_sequence_number=None, data_file=file,
    )  # fmt: skip


def _write_manifest(
    table: Table,
    snapshot_id: int,
    *,
    deletes: bool,
    added: Iterable[ManifestEntry],
    existing: Iterable[ManifestEntry],
    deleted: Iterable[ManifestEntry],
) -> ManifestFile | None:
    """One manifest of data (or delete) files; None when it would list nothing."""
    added, existing, deleted = list(added), list(existing), list(deleted)
    if not (added or existing or deleted):
        return None
    from pyiceberg.table import TableProperties

    name = f"{uuid.uuid4()}-m0.avro"
    location = table.location_provider().new_metadata_location(name)
    codec = table.metadata.properties.get(
        TableProperties.WRITE_AVRO_COMPRESSION, TableProperties.WRITE_AVRO_COMPRESSION_DEFAULT
    )
    writer_class = _delete_manifest_writer() if deletes else _data_manifest_writer()
    writer = writer_class(
        table.spec(), table.schema(), table.io.new_output(location), snapshot_id, codec
    )
    with writer:
        for entry in added:
            writer.add_entry(entry)
        for entry in existing:
            writer.existing(entry)
        for entry in deleted:
            writer.delete(entry)
    manifest: ManifestFile = writer.to_manifest_file()
    return manifest


def _data_manifest_writer() -> Any:
    from pyiceberg.manifest import ManifestWriterV2

    return ManifestWriterV2


def _delete_manifest_writer() -> Any:
    """pyiceberg's v2 manifest writer, for delete files (it only writes data manifests)."""
    from pyiceberg.manifest import ManifestContent, ManifestWriterV2

    class DeleteManifestWriterV2(ManifestWriterV2):
        def content(self) -> ManifestContent:
            return ManifestContent.DELETES

        @property
        def _meta(self) -> dict[str, str]:
            return {**super()._meta, "content": "deletes"}

    return DeleteManifestWriterV2


def _write_manifest_list(
    table: Table, snapshot_id: int, parent_id: int | None, sequence_number: int,
    manifests: list[ManifestFile],
) -> str:  # fmt: skip
    from pyiceberg.manifest import write_manifest_list
    from pyiceberg.table import TableProperties

    name = f"snap-{snapshot_id}-0-{uuid.uuid4()}.avro"
    location = table.location_provider().new_metadata_location(name)
    codec = table.metadata.properties.get(
        TableProperties.WRITE_AVRO_COMPRESSION, TableProperties.WRITE_AVRO_COMPRESSION_DEFAULT
    )
    with write_manifest_list(
        format_version=2, output_file=table.io.new_output(location), snapshot_id=snapshot_id,
        parent_snapshot_id=parent_id, sequence_number=sequence_number,
        avro_compression=codec,  # type: ignore[arg-type]
    ) as writer:  # fmt: skip
        writer.add_manifests(manifests)
    return location


def _flink_commit(table: Table, head: Snapshot) -> Snapshot:
    """The newest snapshot from ``head`` back that Flink's committer wrote (its summary
    names its checkpoint), else ``head``: a rewrite by Iceberg's own Flink maintenance
    (`kappanb.tables.maintenance`) between carries no checkpoint of its own."""
    from pyiceberg.table.snapshots import ancestors_of

    for snapshot in ancestors_of(head, table.metadata):
        if snapshot.summary is not None and snapshot.summary[CHECKPOINT_KEY] is not None:
            return snapshot
    return head


def _summary(parent: Snapshot, live: LiveFiles, *, added: int, removed: int) -> Summary:
    """A ``replace`` summary: totals of the new snapshot; Flink's committer properties of
    the parent carried over (its restore looks for its last checkpoint in the newest
    snapshot of its job)."""
    from pyiceberg.manifest import DataFileContent
    from pyiceberg.table.snapshots import Operation, Summary

    kept = {
        k: str(v) for k, v in (parent.summary or Summary()).additional_properties.items()
        if k.startswith(KEPT_SUMMARY_PREFIX)
    }  # fmt: skip
    deletes = [e.data_file for e in live.deletes]
    return Summary(
        operation=Operation.REPLACE,
        **{
            "added-data-files": str(added),
            "kappanb.compacted-files": str(removed),
            "total-data-files": str(len(live.data)),
            "total-delete-files": str(len(deletes)),
            "total-records": str(sum(e.data_file.record_count for e in live.data)),
            "total-files-size": str(
                sum(e.data_file.file_size_in_bytes for e in [*live.data, *live.deletes])
            ),
            "total-position-deletes": str(sum(
                f.record_count for f in deletes if f.content == DataFileContent.POSITION_DELETES
            )),
            "total-equality-deletes": str(sum(
                f.record_count for f in deletes if f.content == DataFileContent.EQUALITY_DELETES
            )),
            **kept,
        },
    )  # fmt: skip
