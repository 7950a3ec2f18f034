"""`compact`: table maintenance of one version's output table, on demand.

Rewrites the table's current snapshot into few data files with every delete applied
(`kappanb.tables.compaction`), then expires the snapshots older than the retention
(`kappanb.tables.expiry`). Needs the catalog only: Flink may keep committing meanwhile.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from html import escape

from kappanb.core.durations import duration, grace_ms
from kappanb.display.html import html_table, text_table
from kappanb.display.plain import plain_text
from kappanb.exceptions import TableNotFoundError
from kappanb.tables.catalog import DEFAULT_NAMESPACE, Catalog, open_catalog
from kappanb.tables.compaction import Compacted, compact_table
from kappanb.tables.expiry import Expired, expire_snapshots

DEFAULT_RETENTION = "1d"
"""Snapshots younger than this stay for time travel (`compact --retain`)."""


@plain_text
@dataclass(frozen=True)
class CompactResult:
    """What `compact` did to a version's output table."""

    job: str
    version: int
    compacted: Compacted
    expired: Expired
    retention_ms: int

    def _rows(self) -> list[list[object]]:
        c = self.compacted
        return [
            ["data files", c.files_before, c.files_after],
            ["delete files", c.delete_files_before, c.delete_files_after],
        ]

    def _notes(self) -> list[str]:
        c, e = self.compacted, self.expired
        done = f"{c.rows:,} rows rewritten" if c.changed else "nothing to compact"
        return [
            f"{done}; {c.retries} commit(s) lost to concurrent commits and retried",
            f"{e.snapshots} snapshot(s) older than {duration(self.retention_ms)} expired, "
            f"{e.files} file(s) no kept snapshot uses deleted",
        ]

    def __str__(self) -> str:
        head = f"compacted {self.compacted.table} ({self.job} v{self.version})"
        table = text_table(["", "before", "after"], self._rows())
        return "\n".join([head, table, *self._notes()])

    def _repr_html_(self) -> str:
        head = (
            f"<b>compacted {escape(self.compacted.table)}</b> ({escape(self.job)} v{self.version})"
        )
        notes = "".join(f"<div>{escape(n)}</div>" for n in self._notes())
        return head + html_table(["", "before", "after"], self._rows()) + notes


def compact_output(
    catalog: Catalog, job: str, version: int, table_name: str, *, retain: str
) -> CompactResult:
    """Compact ``table_name`` (``job`` v``version``'s output), then expire its snapshots
    older than ``retain`` ("1d", "36h"; the current snapshot always stays)."""
    retention_ms = grace_ms(retain)  # checked before anything is touched
    from pyiceberg.exceptions import NoSuchTableError

    try:
        table = open_catalog(catalog).load_table((DEFAULT_NAMESPACE, table_name))
    except NoSuchTableError:
        raise TableNotFoundError(
            f"{job} v{version} has no output table {table_name} in the catalog (dropped, or "
            "its run has not committed yet): nothing to compact"
        ) from None
    compacted = compact_table(table)
    expired = expire_snapshots(table, older_than_ms=int(time.time() * 1000) - retention_ms)
    return CompactResult(job, version, compacted, expired, retention_ms)
