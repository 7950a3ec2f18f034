"""How long forgotten events stay in the Kafka log, against a deletion deadline. No I/O.

A deletion request deletes the events from the archive at once, but Kafka only ever drops
whole segments of a partition (never a record), and never the active one:

* ``cleanup.policy=delete``: a segment goes once its newest record is older than
  ``retention.ms``. A segment is rolled at most ``segment.ms`` after its first record (when
  a record arrives after that), so an event with timestamp T is gone by
  T + ``segment.ms`` + ``retention.ms`` at the latest (plus the broker's retention check,
  every few minutes), provided records keep arriving. ``retention.ms=-1`` keeps it forever.
* ``cleanup.policy=compact``: the tombstone makes the key's earlier records cleanable; the
  cleaner takes them once ``max.compaction.lag.ms`` has passed since they were written, or
  sooner when enough of the log is dirty. Left at its default (no bound) nothing says when.

Both policies together: whichever removes the event first.
"""

from __future__ import annotations

from dataclasses import dataclass

from kappanb.core.durations import duration
from kappanb.history.retention_report import moment

DAY_MS = 86_400_000
DEFAULT_SEGMENT_MS = 7 * DAY_MS
NO_BOUND = 2**62
"""A ``max.compaction.lag.ms`` at or above this is Kafka's default: no bound."""


@dataclass(frozen=True)
class LogPolicy:
    """The topic's settings that decide when Kafka drops a record."""

    cleanup: str
    """``cleanup.policy``: delete, compact, or both."""
    retention_ms: int
    """``retention.ms``; -1 keeps records forever."""
    segment_ms: int = DEFAULT_SEGMENT_MS
    max_compaction_lag_ms: int = NO_BOUND
    delete_retention_ms: int = DAY_MS
    """How long a compacted topic keeps a tombstone once the cleaner reached it."""

    @property
    def deletes(self) -> bool:
        return "delete" in self.cleanup

    @property
    def compacts(self) -> bool:
        return "compact" in self.cleanup

    def gone_after_ms(self) -> int | None:
        """The longest an event stays after its timestamp; None: no bound."""
        bounds = []
        if self.deletes and self.retention_ms >= 0:
            bounds.append(self.segment_ms + self.retention_ms)
        if self.compacts and self.max_compaction_lag_ms < NO_BOUND:
            bounds.append(self.max_compaction_lag_ms)
        return min(bounds) if bounds else None


@dataclass(frozen=True)
class LogDeadline:
    """When the forgotten events still in the log leave it, against the deadline."""

    topic: str
    policy: LogPolicy
    deadline_ms: int
    now_ms: int
    in_log: int
    """Matching events the log still holds (at or after each partition's first offset)."""
    newest_ms: int | None
    """The Kafka timestamp of the newest of them."""

    @property
    def gone_by_ms(self) -> int | None:
        """When the last of them is gone at the latest; None: no bound."""
        if not self.in_log:
            return self.now_ms
        after = self.policy.gone_after_ms()
        if after is None or self.newest_ms is None:
            return None
        return self.newest_ms + after

    @property
    def meets(self) -> bool:
        """Whether the log will have dropped them by now + deadline."""
        gone = self.gone_by_ms
        return gone is not None and gone <= self.now_ms + self.deadline_ms

    @property
    def too_long(self) -> bool:
        """Whether the topic's settings keep any event longer than the deadline (a concern
        for the next request even when this one's events go in time)."""
        after = self.policy.gone_after_ms()
        return after is None or after > self.deadline_ms

    def lines(self) -> list[str]:
        p, deadline = self.policy, duration(self.deadline_ms)
        kept = "forever" if p.retention_ms < 0 else duration(p.retention_ms)
        setting = (
            f"cleanup.policy={p.cleanup}, retention {kept}, segments roll after "
            f"{duration(p.segment_ms)}"
        )
        if p.compacts:
            lag = "no bound" if p.max_compaction_lag_ms >= NO_BOUND else duration(
                p.max_compaction_lag_ms)  # fmt: skip
            setting += f", max.compaction.lag.ms {lag}"
        head = f"log: {setting}; deadline {deadline} (by {moment(self.now_ms + self.deadline_ms)})"
        if not self.in_log:
            return [head, "  none of the matching events is in the log any more"]
        gone = self.gone_by_ms
        when = "no time is bound" if gone is None else f"gone by {moment(gone)} at the latest"
        verdict = "within the deadline" if self.meets else "WARNING: past the deadline"
        lines = [head, f"  {self.in_log:,} matching event(s) still in the log: {when}; {verdict}"]
        if self.too_long or not self.meets:
            lines.extend(f"  {line}" for line in self.advice())
        if p.compacts:
            lines.append(
                f"  the tombstones (they carry the key) stay {duration(p.delete_retention_ms)} "
                "(delete.retention.ms) after the cleaner reaches them"
            )
        return lines

    def advice(self) -> list[str]:
        """What to do so that the log drops such events within the deadline."""
        p, out = self.policy, []
        if p.deletes or not p.compacts:
            room = self.deadline_ms - p.segment_ms
            if room > 0:
                out.append(
                    f"lower the topic's retention to at most {duration(room)} (the deadline "
                    f"less segment.ms): declare it again with its schema, `topic {self.topic} "
                    f"--schema ... --retention {_days(room)}`"
                )
            else:
                out.append(
                    f"segment.ms ({duration(p.segment_ms)}) alone exceeds the deadline: lower "
                    f"it with kafka-configs.sh --alter --entity-type topics --entity-name "
                    f"{self.topic} --add-config segment.ms=<ms> (kappanb's `topic` sets only "
                    "retention), then the retention with `topic ... --retention`"
                )
        if p.compacts:
            out.append(
                f"bound compaction below the deadline: kafka-configs.sh --alter --entity-type "
                f"topics --entity-name {self.topic} --add-config max.compaction.lag.ms="
                f"{max(1, self.deadline_ms - p.segment_ms)} (kappanb's `topic` cannot set it)"
            )
        return out


def _days(ms: int) -> str:
    """A retention `topic --retention` takes, rounded down to whole hours or days."""
    if ms >= DAY_MS:
        return f"{ms // DAY_MS}d"
    return f"{max(1, ms // 3_600_000)}h"
