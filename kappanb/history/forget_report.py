"""What `forget` did and what is left to do: the rows deleted from the archive, the
tombstones written, the output tables that may still hold rows derived from the forgotten
events (and the replays that rebuild them), and the log's hot retention against the
deadline. No I/O: `kappanb.history.forget` gathers the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from kappanb.display.html import html_table, text_table
from kappanb.display.plain import plain_text
from kappanb.history.forget_deadline import LogDeadline
from kappanb.tables.expiry import Expired


@dataclass(frozen=True)
class Tombstones:
    """Tombstones for the keys of the deleted events (compacted topics only)."""

    compacted: bool
    written: int = 0
    keyless: int = 0
    """Matching events without a key: no tombstone can name them."""

    def line(self) -> str:
        if not self.compacted:
            return (
                "tombstones: none (the topic is not compacted: a record with no value "
                "deletes nothing there; retention does)"
            )
        line = f"tombstones: {self.written:,} written (one per key and partition)"
        return line + (f"; {self.keyless:,} matching event(s) had no key" if self.keyless else "")


@dataclass(frozen=True)
class DerivedTable:
    """One output table of a job version that reads the topic."""

    job: str
    version: int
    table: str
    matching: int | None
    """Rows matching the condition (the table has its columns); None: cannot be checked."""
    note: str
    via: str = ""
    """The newer topic version through which it reads the topic (`kappanb.versions.chain`);
    empty when it reads the topic itself."""

    @property
    def replay(self) -> str:
        if self.via:  # a chain is not replayed from the archive (`kappanb.runs.chain_reads`)
            return (
                f"replay {self.job} v{self.version} once the log no longer has the events "
                f"(it reads them through {self.via}, which replays from the log only)"
            )
        return f"replay {self.job} v{self.version} --from archive"


@plain_text
@dataclass(frozen=True)
class ForgetReport:
    """The result of `forget TOPIC --where ...`."""

    topic: str
    where: str
    archive: str
    deleted: int
    files_rewritten: int
    files_dropped: int
    snapshot_id: int | None
    left: int
    """Matching rows in the committed snapshot, scanned after the delete (0 if it worked)."""
    unarchived: int
    """Records in the log the archive does not hold yet (they may match too)."""
    tombstones: Tombstones
    derived: tuple[DerivedTable, ...]
    log: LogDeadline
    history: Expired | None = None
    """What `--expire-history` expired; None when not asked."""

    @property
    def replays(self) -> list[str]:
        """The replays to run, one per job version (its output may hold derived rows)."""
        return list(dict.fromkeys(d.replay for d in self.derived))

    def summary(self) -> list[str]:
        snap = f"snapshot {self.snapshot_id}" if self.snapshot_id else "no new snapshot"
        files = f"{self.files_rewritten} file(s) rewritten, {self.files_dropped} dropped"
        lines = [
            f"forget {self.topic} --where {self.where!r}",  # as the shell takes it back
            f"archive {self.archive}: {self.deleted:,} event(s) deleted ({files}; {snap}); "
            f"its current snapshot holds {self.left:,} matching",
            self._history_line(),
            self.tombstones.line(),
        ]
        if self.unarchived:
            lines.append(
                f"WARNING: the archive is {self.unarchived:,} record(s) behind the log; "
                f"matching events among them are archived later: `forget` again once `status "
                f"{self.topic}` shows it caught up"
            )
        return lines

    def _history_line(self) -> str:
        if self.history is None:
            return (
                "history: the archive's earlier snapshots still hold them (time travel) until "
                f"expired: `forget {self.topic} --where {self.where!r} --expire-history`"
            )
        return (
            f"history: {self.history.snapshots} earlier snapshot(s) expired, "
            f"{self.history.files} file(s) deleted"
        )

    def derived_rows(self) -> list[list[object]]:
        return [
            [f"{d.job} v{d.version}", d.table, "?" if d.matching is None else d.matching, d.note,
             d.replay]
            for d in self.derived
        ]  # fmt: skip

    def __str__(self) -> str:
        lines = self.summary()
        if self.derived:
            lines += ["", "outputs of the jobs that read it (each may hold derived rows):"]
            headers = ["version", "table", "matching rows", "why", "to rebuild"]
            lines += [f"  {row}" for row in text_table(headers, self.derived_rows()).splitlines()]
        else:
            lines.append("outputs: no job version reads this topic: nothing to replay")
        return "\n".join([*lines, "", *self.log.lines()])

    def _repr_html_(self) -> str:
        head, *rest = self.summary()
        facts = [line.split(": ", 1) if ": " in line else [line, ""] for line in rest]
        parts = [f"<b>{escape(head)}</b>", html_table(["", "what forget did"], facts)]
        if self.derived:
            headers = ["version", "table", "matching rows", "why", "to rebuild"]
            parts.append(html_table(headers, self.derived_rows()))
        else:
            parts.append("<p>no job version reads this topic: nothing to replay</p>")
        log = self.log.lines()
        parts.append(f"<b>{escape(log[0])}</b><br>" + "<br>".join(escape(x) for x in log[1:]))
        return "".join(parts)
