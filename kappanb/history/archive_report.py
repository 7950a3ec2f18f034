"""What the user sees of an archive: what `archive` did, and how far behind the head it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from kappanb.display.html import html_table, link
from kappanb.display.plain import plain_text
from kappanb.registry.records import RunRecord


@dataclass(frozen=True)
class ArchiveLag:
    """Records between an archive's position and the head of the log, per partition."""

    topic: str
    behind: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.behind.values())

    @property
    def caught_up(self) -> bool:
        """It has read every record the log held when asked."""
        return bool(self.behind) and self.total == 0

    def __str__(self) -> str:
        parts = ", ".join(f"p{p} {n:,}" for p, n in sorted(self.behind.items()))
        return f"{self.total:,} behind the head ({parts or 'no partitions'})"


@plain_text
@dataclass(frozen=True)
class ArchiveResult:
    """An archive run after `archive` (started or resumed) or `archive --stop`."""

    run: RunRecord
    web_url: str
    message: str

    def __str__(self) -> str:
        r = self.run
        return (
            f"{self.message}\n  run #{r.id} {r.state}  Flink job {r.flink_job_id}  "
            f"{self.web_url}\n  table {r.table}  group {r.group_id}"
        )

    def _repr_html_(self) -> str:
        r = self.run
        rows = [[r.id, r.state, link(self.web_url, r.flink_job_id), r.table, r.group_id]]
        headers = ["run", "state", "Flink job", "table", "consumer group"]
        return f"<b>{escape(self.message)}</b>" + html_table(headers, rows)


@plain_text
@dataclass(frozen=True)
class ArchiveStatus:
    """A topic's archive now: its run, how far behind the head, what its table covers."""

    run: RunRecord
    web_url: str
    lag: ArchiveLag | None
    """None when the archive is not running (or Flink and Kafka could not say)."""
    rows: int | None
    """Rows the archive table's current snapshot holds (None: unknown)."""
    covers: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Per partition, the lowest and highest offset the table holds."""

    @property
    def caught_up(self) -> bool:
        return self.lag is not None and self.lag.caught_up

    def lines(self) -> list[str]:
        r = self.run
        topic = r.job.removeprefix("archive.")
        where = str(self.lag) if self.lag else "position unknown"
        covers = ", ".join(f"p{p} {lo}-{hi}" for p, (lo, hi) in sorted(self.covers.items()))
        return [
            f"archive of {topic} (run #{r.id}): {r.state}, {where}",
            f"  Flink job {r.flink_job_id}  {self.web_url}",
            f"  table {r.table}: {'?' if self.rows is None else f'{self.rows:,}'} rows, "
            f"offsets {covers or 'none yet'}",
        ]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        head, *rest = self.lines()
        body = "<br>".join(escape(line) for line in rest)
        return f"<b>{escape(head)}</b><br>{body}"
