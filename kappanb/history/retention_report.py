"""The retention report of a topic: how far back its log reaches, what an archive holds,
and whether replays outrun the topic's growth. No I/O: `kappanb.runs.retention` gathers
the figures.

Headroom is a replay's measured throughput divided by the topic's growth rate; the Kappa
architecture wants 5 to 10 times (`HEADROOM_WANTED`). A replay from the archive read the
archive's rows and then the log's tail: its throughput counts both. The ETA of a full
replay is the records it reads over the rate at which a replay closes on the head (its
throughput minus the growth); a replay no faster than the growth never catches up (no
ETA). The records a full replay reads: the log's when it still starts at offset 0; when
retention deleted the start and the archive holds it, the archive's rows (up to the
handoff) and the log from the handoff; when neither, only what the log has (the report
says which it counts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

from kappanb.core.durations import duration
from kappanb.display.html import html_table, number, text_table
from kappanb.display.plain import plain_text
from kappanb.kafka.log_extent import LogExtent, PartitionExtent

HEADROOM_WANTED = 5.0
"""The least headroom (replay throughput over growth) the report calls enough."""


def moment(ms: int | None) -> str:
    """A Kafka timestamp as UTC text that ``--from`` takes back (to the millisecond)."""
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


@dataclass(frozen=True)
class ArchiveCoverage:
    """What an archive of the topic holds, per partition: offsets ``[0, upto)``, or a
    range ``later`` (lowest, highest) that does not start at 0 (the archive began after
    retention had deleted the start). Empty (and `exists` False) while the topic has no
    archive."""

    exists: bool = False
    upto: Mapping[int, int] = field(default_factory=dict)
    later: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    rows: int | None = None
    """The rows it holds (what a deletion request took out is not counted); None when
    not known."""

    @classmethod
    def of_ranges(
        cls, ranges: Mapping[int, tuple[int, int]], rows: int | None = None
    ) -> ArchiveCoverage:
        """An existing archive holding, per partition, offsets (lowest, highest), and
        ``rows`` rows in all."""
        return cls(
            True,
            upto={p: high + 1 for p, (low, high) in ranges.items() if low == 0},
            later={p: r for p, r in ranges.items() if r[0] > 0},
            rows=rows,
        )

    def fills(self, partition: PartitionExtent) -> bool:
        """Whether the archive holds every record the log lost in ``partition``."""
        return partition.from_zero or self.upto.get(partition.partition, 0) >= partition.earliest

    def describe(self, partition: int) -> str:
        if not self.exists:
            return "no archive"
        if partition in self.later:
            low, high = self.later[partition]
            return f"offsets {low}-{high} (not from 0)"
        return f"offsets 0-{self.upto[partition] - 1}" if self.upto.get(partition) else "nothing"


@dataclass(frozen=True)
class ReplayRate:
    """One replay run of a job reading the topic: records it read in the seconds it ran
    (a replay from the archive: the archive's rows it read and the log's records after
    them, ``from_archive`` of them the archive's)."""

    job: str
    version: int
    run_id: int
    state: str
    records: int
    seconds: float
    from_archive: int = 0

    @property
    def per_s(self) -> float | None:
        return self.records / self.seconds if self.seconds > 0 and self.records > 0 else None


@plain_text
@dataclass(frozen=True)
class RetentionReport:
    """A topic's log now (`LogExtent`), its archive, and its jobs' measured replays."""

    extent: LogExtent
    archive: ArchiveCoverage = ArchiveCoverage()
    rates: Sequence[ReplayRate] = ()
    """The newest measured replay of each job version that reads the topic."""
    unmeasured: str = ""
    """Why no replay throughput is known, when none is."""

    @property
    def topic(self) -> str:
        return self.extent.topic

    @property
    def full_replay_from_log(self) -> bool:
        """Whether a replay from the log alone reads every record ever written."""
        return self.extent.from_zero

    @property
    def full_replay_possible(self) -> bool:
        """From the log, or from the archive for what the log lost."""
        return all(self.archive.fills(p) for p in self.extent.partitions)

    @property
    def log_records(self) -> int:
        """What a replay from the log reads now."""
        return sum(p.records for p in self.extent.partitions)

    @property
    def full_replay_records(self) -> int | None:
        """What a full replay reads now: the log from offset 0 while it starts there; else,
        when the archive holds what the log lost (`archive_serves`), the archive's rows up
        to the handoff and the log from the handoff; None when no full replay is possible
        (or the archive's rows are not known)."""
        if self.full_replay_from_log:
            return self.log_records
        if not self.archive_serves:
            return None
        assert self.archive.rows is not None
        return self.archive.rows + self.log_after_archive

    @property
    def archive_serves(self) -> bool:
        """Whether a full replay needs the archive and it can give it (`--from archive`):
        it holds what the log lost, each partition from offset 0, and its rows are known."""
        return (
            not self.full_replay_from_log
            and self.full_replay_possible
            and not self.archive.later
            and self.archive.rows is not None
        )

    @property
    def log_after_archive(self) -> int:
        """The log's records from the handoff: one past the last offset the archive holds."""
        return sum(max(0, p.head - self.archive.upto.get(p.partition, 0))
                   for p in self.extent.partitions)  # fmt: skip

    @property
    def eta_records(self) -> int:
        """What the ETA counts: a full replay's records, or the log's when there is none."""
        full = self.full_replay_records
        return self.log_records if full is None else full

    def eta_basis(self) -> str:
        """Which records the ETA counts, in words."""
        if self.full_replay_from_log:
            return f"the {number(self.log_records)} records of the log, from offset 0"
        if self.archive_serves:
            assert self.archive.rows is not None
            return (
                f"the {number(self.archive.rows)} records of the archive, then the "
                f"{number(self.log_after_archive)} records of the log from where the archive "
                "ends (replay --from archive)"
            )
        why = (
            "the archive's records are not known"
            if self.full_replay_possible
            else "a full replay is not possible: the early records are gone"
        )
        return f"only the {number(self.log_records)} records the log still has ({why})"

    def headroom(self, rate: ReplayRate) -> float | None:
        """Throughput over growth; None when either is unknown or the topic did not grow."""
        growth = self.extent.growth_per_s
        return rate.per_s / growth if rate.per_s is not None and growth > 0 else None

    def eta_s(self, rate: ReplayRate) -> float | None:
        """Seconds a full replay takes to reach the head at ``rate`` (reading
        `eta_records`); None when the rate is unknown or does not outrun the growth (it
        never catches up)."""
        closing = (rate.per_s or 0.0) - self.extent.growth_per_s
        return self.eta_records / closing if rate.per_s is not None and closing > 0 else None

    # ---- text --------------------------------------------------------------------------
    def _partition_rows(self) -> list[list[object]]:
        return [
            [p.partition, number(p.earliest), moment(p.earliest_ms), number(p.head),
             "yes" if p.from_zero else f"no: 0-{p.earliest - 1} gone",
             self.archive.describe(p.partition)]
            for p in self.extent.partitions
        ]  # fmt: skip

    _PARTITION_HEADERS = ("partition", "earliest offset", "its timestamp (UTC)", "head",
                          "starts at 0", "archive")  # fmt: skip
    _RATE_HEADERS = ("replay", "records read", "in", "throughput", "headroom", "full replay ETA")

    def _rate_rows(self) -> list[list[object]]:
        rows: list[list[object]] = []
        for r in self.rates:
            per_s, headroom, eta = r.per_s, self.headroom(r), self.eta_s(r)
            rows.append([
                f"{r.job} v{r.version} run #{r.run_id} ({r.state})", _records_text(r),
                duration(int(r.seconds * 1000)),
                f"{number(round(per_s))}/s" if per_s is not None else "not measured",
                _headroom_text(headroom, self.extent.growth_per_s, per_s),
                duration(int(eta * 1000)) if eta is not None else _no_eta(per_s),
            ])  # fmt: skip
        return rows

    def _eta_line(self) -> str:
        return f"full replay ETA: reading {self.eta_basis()}"

    def summary(self) -> list[str]:
        e = self.extent
        kept = f"retention {duration(e.retention_ms)}" if e.retention_ms > 0 else "kept forever"
        if self.full_replay_from_log:
            replay = "the log starts at offset 0: a full replay from the log alone is possible"
        else:
            gone = ", ".join(f"{p.partition}: 0-{p.earliest - 1}" for p in e.partitions
                             if not p.from_zero)  # fmt: skip
            filled = (
                "the archive holds them" if self.full_replay_possible else "no archive holds them"
            )
            replay = (
                f"early records are gone (partition: offsets {gone}) and {filled}: "
                + ("a full replay needs the archive" if self.full_replay_possible
                   else "a full replay is not possible")
            )  # fmt: skip
        growth = f"growth {e.growth_per_s:,.1f} records/s over the last {duration(e.window_ms)}"
        return [f"topic {e.topic}: {kept}; {number(self.log_records)} records in the log",
                replay, growth]  # fmt: skip

    def __str__(self) -> str:
        parts = [*self.summary(), "", text_table(self._PARTITION_HEADERS, self._partition_rows())]
        if self.rates:
            parts += ["", text_table(self._RATE_HEADERS, self._rate_rows()), self._eta_line()]
        else:
            parts += ["", f"replay throughput: not measured ({self.unmeasured})"]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        lines = "<br>".join(escape(line) for line in self.summary())
        body = html_table(self._PARTITION_HEADERS, self._partition_rows())
        if self.rates:
            body += html_table(self._RATE_HEADERS, self._rate_rows())
            body += f"<p>{escape(self._eta_line())}</p>"
        else:
            body += f"<p>replay throughput: not measured ({escape(self.unmeasured)})</p>"
        return f"<b>retention</b> <code>{escape(self.topic)}</code><br>{lines}{body}"


def _records_text(rate: ReplayRate) -> str:
    if not rate.from_archive:
        return number(rate.records)
    return f"{number(rate.records)} ({number(rate.from_archive)} from the archive)"


def _headroom_text(headroom: float | None, growth: float, per_s: float | None) -> str:
    if per_s is None:
        return "not measured"
    if growth <= 0:
        return "no growth to outrun"
    assert headroom is not None
    low = f" (below the {HEADROOM_WANTED:g}x wanted)" if headroom < HEADROOM_WANTED else ""
    return f"{headroom:,.1f}x{low}"


def _no_eta(per_s: float | None) -> str:
    return "not measured" if per_s is None else "never: no faster than the growth"
