"""Automatic maintenance of a run's output table, done by Iceberg's own Flink sink.

Iceberg 1.11's sink-v2 ``IcebergSink`` (chosen in Flink SQL by the job setting
``table.exec.iceberg.use-v2-sink``) can run table maintenance after its commits, in the
same job (`TableMaintenance`, its post-commit topology): a rewrite of small data files
(deletes applied), snapshot expiry and removal of orphan files. It reads its settings
(``flink-maintenance.*``) from the sink's write options, which for a catalog table are the
table's properties: kappanb puts them there when it creates the table, so a run resumed
from a checkpoint builds the same job graph whatever the settings are by then.

Locks: with no ``flink-maintenance.lock.type`` the sink coordinates its tasks through
Flink operator coordinators inside the job, so nothing outside Flink is needed, on the
embedded JDBC (SQLite) catalog or a REST catalog alike. A JDBC or ZooKeeper lock matters
only when two jobs maintain one table, which kappanb never starts.

What stays: every snapshot younger than ``snapshot_age`` and the last ``retain_last`` ones
(time travel; a resumed run finds its last committed checkpoint in them); rollback and diff
read other tables' current snapshots and need no old one. Orphans are files no snapshot
names and older than ``orphan_min_age``: long enough that no checkpoint still to commit
(a run down for a while, resumed from its retained checkpoint) and no `compact` in flight
has a file that young.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kappanb.tables.catalog import Catalog

V2_SINK = "table.exec.iceberg.use-v2-sink"
"""Flink SQL writes Iceberg through the sink-v2 ``IcebergSink`` (`FlinkConfigOptions`)."""
REWRITE = "flink-maintenance.rewrite.enabled"
EXPIRE = "flink-maintenance.expire-snapshots.enabled"
ORPHANS = "flink-maintenance.delete-orphan-files.enabled"
ENABLED = (REWRITE, EXPIRE, ORPHANS)


@dataclass(frozen=True)
class MaintenancePolicy:
    """When the sink maintains a live run's output table (seconds, commits)."""

    rewrite_every_commits: int = 5
    """Rewrite the small data files after this many commits (checkpoints with data). Each
    commit since adds a data file and a delete file to every read: at 5, a 300,000-row
    table read in 1.27x and 1.32x a fresh copy's time at the end of two benchmark runs,
    at 10 in 1.72x (benchmarks/table_maintenance.py)."""
    min_input_files: int = 5
    """A rewrite waits for at least this many files to rewrite."""
    rate_limit_s: int = 10
    """At most one maintenance run of a kind in this many seconds."""
    snapshot_age_s: int = 3600
    """Snapshots younger than this stay (time travel); older ones expire."""
    retain_last: int = 10
    """The newest snapshots kept whatever their age."""
    expire_every_commits: int = 10
    orphan_min_age_s: int = 3 * 24 * 3600
    """Only files no snapshot names and older than this are deleted (Iceberg's default)."""
    orphan_every_s: int = 24 * 3600
    merge_manifests_at: int = 10
    """A commit merges the manifests once this many pile up (Iceberg's default: 100). A
    checkpoint adds a manifest or two, and a read decodes each one it has not seen yet."""

    def table_properties(self) -> dict[str, str]:
        """The Iceberg table properties that turn maintenance on, with this policy."""
        rewrite, expire = "flink-maintenance.rewrite.", "flink-maintenance.expire-snapshots."
        orphans = "flink-maintenance.delete-orphan-files."
        return {
            REWRITE: "true",
            f"{rewrite}schedule.commit-count": str(self.rewrite_every_commits),
            f"{rewrite}min-input-files": str(self.min_input_files),
            EXPIRE: "true",
            f"{expire}schedule.commit-count": str(self.expire_every_commits),
            f"{expire}max-snapshot-age-seconds": str(self.snapshot_age_s),
            f"{expire}retain-last": str(self.retain_last),
            ORPHANS: "true",
            f"{orphans}schedule.interval-second": str(self.orphan_every_s),
            f"{orphans}min-age-seconds": str(self.orphan_min_age_s),
            # List the table's files through its FileIO (S3FileIO on a cluster profile),
            # not a Hadoop file system, which has no s3:// scheme there.
            f"{orphans}use-prefix-listing": "true",
            "flink-maintenance.rate-limit-seconds": str(self.rate_limit_s),
            # Every commit writes a new metadata file; keep the last 100, delete older ones.
            "write.metadata.delete-after-commit.enabled": "true",
            "write.metadata.previous-versions-max": "100",
            "commit.manifest.min-count-to-merge": str(self.merge_manifests_at),
        }


def maintained(properties: Mapping[str, str]) -> bool:
    """Whether a table with these properties is written by the maintaining sink."""
    return any(properties.get(key, "").lower() == "true" for key in ENABLED)


def table_maintained(location: Catalog, name: str) -> bool:
    """Whether kappanb created the output table ``name`` with maintenance on (False when the
    table is missing): a resumed run then writes it through the same sink."""
    from pyiceberg.exceptions import NoSuchTableError

    from kappanb.tables.catalog import DEFAULT_NAMESPACE, open_catalog

    try:
        table = open_catalog(location).load_table((DEFAULT_NAMESPACE, name))
    except NoSuchTableError:
        return False
    return maintained(table.properties)
