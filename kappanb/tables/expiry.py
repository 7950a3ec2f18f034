"""Snapshot expiry of an output table, and removal of the files only expired snapshots used.

Kept: every snapshot younger than the retention, the current one and every branch or tag
head, so time travel within the retention and a rollback to a kept version's table (another
table: its own snapshots) still work. The snapshots are removed in one catalog commit (its
compare-and-swap on the metadata location races safely with Flink's commits, which never
remove snapshots). Then a file is deleted only when an expired snapshot reached it and no
kept snapshot does: it was committed once, so it is no file an in-flight Flink checkpoint is
still writing, and no reader of a kept snapshot needs it.

Not done: removal of orphan files in the strict sense (written but never committed, e.g. by
a failed checkpoint). Telling those from the files of a checkpoint Flink is still writing
takes a listing of the table's location and an age threshold (Java's ``DeleteOrphanFiles``
defaults to three days); kappanb leaves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot


@dataclass(frozen=True)
class Expired:
    """Snapshots removed from a table's metadata, and files deleted with them."""

    snapshots: int
    files: int


def expire_snapshots(table: Table, older_than_ms: int) -> Expired:
    """Expire the snapshots committed before ``older_than_ms`` (epoch ms) that nothing keeps."""
    from pyiceberg.table.update import AssertTableUUID, RemoveSnapshotsUpdate

    table = table.refresh()
    kept = {ref.snapshot_id for ref in table.metadata.refs.values()}
    doomed = [
        s for s in table.snapshots() if s.timestamp_ms < older_than_ms and s.snapshot_id not in kept
    ]
    if not doomed:
        return Expired(0, 0)
    reached = _files_of(table, doomed, live_only=False)
    expired: dict[str, Any] = {"snapshot_ids": [s.snapshot_id for s in doomed]}
    table.catalog.commit_table(
        table,
        (AssertTableUUID(uuid=table.metadata.table_uuid),),
        (RemoveSnapshotsUpdate(**expired),),
    )
    table = table.refresh()  # kept snapshots, a commit that raced in included
    unused = reached - _files_of(table, table.snapshots(), live_only=True)
    return Expired(len(doomed), sum(_delete(table, path) for path in sorted(unused)))


def _delete(table: Table, path: str) -> bool:
    """Delete the file; False when it was gone already. A manifest that a kept snapshot
    still lists (Flink's commits carry compaction's manifests on) names the files an
    earlier compaction replaced, as deleted entries: an earlier expiry removed them."""
    try:
        table.io.delete(path)
    except FileNotFoundError:
        return False
    return True


def _files_of(table: Table, snapshots: list[Snapshot], *, live_only: bool) -> set[str]:
    """Manifest lists, manifests and data and delete files the snapshots reach (with
    ``live_only``, not the files a manifest lists as deleted in its snapshot)."""
    files: set[str] = set()
    seen: set[str] = set()
    for snapshot in snapshots:
        files.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            files.add(manifest.manifest_path)
            if manifest.manifest_path in seen:
                continue
            seen.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=live_only):
                files.add(entry.data_file.file_path)
    return files
