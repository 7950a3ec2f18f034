"""What the registry remembers: declared topics, job versions and runs."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape as _esc

from kappanb.core.durations import duration
from kappanb.core.schema import Column
from kappanb.display.html import html_table
from kappanb.display.plain import plain_text
from kappanb.registry.kinds import JobKind, RemovalState, RunMode, RunState, SwitchKind

ACTIVE_STATES: frozenset[RunState] = frozenset(
    {"CREATED", "INITIALIZING", "RUNNING", "RESTARTING", "FAILING", "CANCELLING", "RECONCILING"}
)
"""Flink job states in which a run still owns its table and consumer group."""


@plain_text
@dataclass(frozen=True)
class TopicSpec:
    """A declared Kafka topic: its JSON schema, event time and watermark delay."""

    name: str
    table: str
    columns: tuple[Column, ...]
    event_time: str | None = None
    watermark_ms: int = 0
    partitions: int = 1
    compact: bool = False
    key: str | None = None
    created_at: str = ""
    on_malformed: str = "dlq"
    """What a run does with an event that does not decode: "dlq" (route it) or "fail"."""
    dlq: str | None = None
    """The dead-letter topic when it is not the default ``<name>.dlq``."""
    retention_ms: int | None = None
    """How long Kafka keeps its records (``retention.ms``), as declared with --retention;
    None: not declared, kept forever (a topic kappanb creates) or as Kafka has it."""
    follows: str | None = None
    """The older version of this topic that runs read first (`kappanb.versions.chain`):
    its records up to ``cut``, through ``mapping``, then this topic's own."""
    mapping: tuple[tuple[str, str], ...] = ()
    """Per column of this topic, the Flink SQL expression over the older version's
    columns that gives it (a column left out is the older's same-named column)."""
    cut: str = ""
    """Where the older version was sealed when this one was declared to follow it: per
    partition, its end offset then (``0:120,1:98``); records past it are not read."""

    @property
    def cut_offsets(self) -> dict[int, int]:
        """``cut`` per partition (empty for a topic that follows none)."""
        pairs = (pair.split(":") for pair in self.cut.split(",") if pair)
        return {int(p): int(o) for p, o in pairs}

    @property
    def follows_text(self) -> str:
        """``", follows rides.trips.v1 up to 0:120"``; empty for a topic that follows none."""
        return f", follows {self.follows} up to {self.cut or '-'}" if self.follows else ""

    @property
    def retention_text(self) -> str:
        """``", retention 7.0 days"``; empty when no retention was declared."""
        return f", retention {duration(self.retention_ms)}" if self.retention_ms else ""

    @property
    def dlq_topic(self) -> str | None:
        """Where malformed events go, or None when the policy is fail-fast."""
        if self.on_malformed != "dlq":
            return None
        return self.dlq or f"{self.name}.dlq"

    @property
    def malformed_text(self) -> str:
        """The policy, e.g. ``", malformed events -> orders.bad"``; empty when it is the
        default (``NAME.dlq``; fail-fast for a compacted topic)."""
        default = self.on_malformed == ("fail" if self.compact else "dlq") and not self.dlq
        if default:
            return ""
        return (
            f", malformed events -> {self.dlq_topic}" if self.dlq_topic else ", fail on malformed"
        )

    def __str__(self) -> str:
        columns = "\n".join(
            f"  {c.name:<20} {c.type}{'  (event time)' if c.name == self.event_time else ''}"
            for c in self.columns
        )
        compact = f", compacted by {self.key}" if self.compact else ""
        return (
            f"topic {self.name} (SQL table {self.table}), {self.partitions} partition(s){compact}"
            + (f", watermark {self.watermark_ms / 1000:g} s" if self.event_time else "")
            + f"{self.malformed_text}{self.retention_text}{self.follows_text}\n{columns}"
        )

    def _repr_html_(self) -> str:
        rows = [
            [c.name, c.type, "event time" if c.name == self.event_time else ""]
            for c in self.columns
        ]
        head = (
            f"<b>topic</b> <code>{self.name}</code> (SQL table <code>{self.table}</code>), "
            f"{self.partitions} partition(s)"
            + (f", compacted by <code>{self.key}</code>" if self.compact else "")
            + (f", watermark {self.watermark_ms / 1000:g} s" if self.event_time else "")
            + _esc(self.malformed_text + self.retention_text + self.follows_text)
        )
        return head + html_table(["column", "type", ""], rows)


@plain_text
@dataclass(frozen=True)
class JobVersion:
    """One version of a job: its text, what it reads and the output it writes."""

    job: str
    version: int
    kind: JobKind
    text: str
    digest: str
    created_at: str
    note: str = ""
    output: tuple[Column, ...] = ()
    key: tuple[str, ...] = ()
    updating: bool = False
    sources: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"v{self.version}"

    def __str__(self) -> str:
        mode = f"updating, key ({', '.join(self.key)})" if self.updating else "append-only"
        note = f" — {self.note}" if self.note else ""
        cols = ", ".join(f"{c.name} {c.type}" for c in self.output)
        return (
            f"{self.job} {self.label} ({self.kind}, {mode}), {self.created_at}{note}\n"
            f"  reads: {', '.join(self.sources) or '-'}\n  writes: {cols}\n"
            f"  digest {self.digest[:12]}\n\n{self.text}"
        )

    def _repr_html_(self) -> str:
        mode = (
            f"updating, key <code>{', '.join(self.key)}</code>"
            if self.updating
            else ("append-only")
        )
        note = f" — <i>{_esc(self.note)}</i>" if self.note else ""
        rows = [[c.name, c.type, "key" if c.name in self.key else ""] for c in self.output]
        return (
            f"<b>{self.job} {self.label}</b> ({self.kind}, {mode}), {self.created_at}{note}"
            f"<br>reads <code>{', '.join(self.sources) or '-'}</code>, digest "
            f"<code>{self.digest[:12]}</code><pre>{_esc(self.text)}</pre>"
            + html_table(["output column", "type", ""], rows)
        )


@dataclass(frozen=True)
class RunRecord:
    """One submission of a job version to Flink (a live run or a replay) and its table."""

    id: int
    job: str
    version: int
    mode: RunMode
    table: str
    group_id: str
    start: str
    until: str | None
    flink_job_id: str
    state: RunState
    started_at: str
    ended_at: str | None = None
    savepoint: str | None = None
    error: str | None = None
    restored_from: str | None = None
    parallelism: int = 1
    dead_letters: str = ""
    """The dead-letter topics the run writes malformed events to, comma-separated; empty
    when its topics fail fast (or the run predates dead-letter topics)."""

    first_offsets: str = ""
    """Where a run from the log's start (``earliest``, ``earliest-available``) began, as
    Kafka had it then: ``topic@0:0,1:0;...`` (`kappanb.kafka.run_offsets`). Retention may
    move the log's start on later; records read still count from here. For a replay
    ``--from archive``: its handoffs, where its Kafka side began. Empty for other starts
    and for runs older than retention."""
    end_offsets: str = ""
    """Where a bounded replay ``--until latest`` ends: the heads when it started, as
    ``first_offsets`` spells them. Empty for other runs."""
    archive_snapshots: str = ""
    """A replay ``--from archive``: the archive snapshot it reads of each topic,
    ``topic@snapshot_id;...``; its ``first_offsets`` are the handoffs, where its Kafka side
    starts (`kappanb.history.archive_replay`). Empty for other runs."""

    @property
    def dead_letter_topics(self) -> tuple[str, ...]:
        return tuple(t for t in self.dead_letters.split(",") if t)

    @property
    def label(self) -> str:
        return f"v{self.version}"

    @property
    def start_label(self) -> str:
        """Where it started, as `status` shows it: a replay from the archive says where
        its Kafka side began."""
        if self.archive_snapshots and self.first_offsets:
            return f"archive, then Kafka from {self.first_offsets}"
        return self.start

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


@dataclass(frozen=True)
class Switch:
    """One switch of a job's serving alias: which version readers get from ``at`` on."""

    id: int
    job: str
    from_version: int | None
    to_version: int
    table: str
    at: str
    kind: SwitchKind
    reason: str = ""
    forced: bool = False


@dataclass(frozen=True)
class Removal:
    """A retired version's table scheduled for removal once its grace period has passed
    (`retire --remove-after`), and what became of it."""

    id: int
    job: str
    version: int
    table: str
    scheduled_at: str
    due_ms: int
    """When it may go, in milliseconds since the epoch on the registry's clock."""
    state: RemovalState
    done_at: str | None = None
    """When it was removed or called off."""
    note: str = ""
    """Why it was called off (or rescheduled)."""

    @property
    def pending(self) -> bool:
        return self.state in ("scheduled", "removing")
