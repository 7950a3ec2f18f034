"""Whether a run's watermark is held back, and by which partition.

A run that has read its log up to the head has seen every event: the windows its data
closes are those ending at or before the newest event time minus the topic's watermark
delay. Its watermark should have reached that point. When it has not, a partition holds it
back: the one whose last event set the watermark (its newest event is behind the others),
or a partition that never gave one. kappanb's sources let a partition that falls quiet stop
holding (docs/reliability.md, "Watermarks"), so a hold that stays is worth saying, with the
partition: a window behind it has not fired, and a read does not show it yet.

Only a job whose plan has event-time operators (windows, interval joins, OVER,
MATCH_RECOGNIZE) waits on its watermark for output; for any other job the watermark
changes nothing a reader sees, and nothing is held.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kappanb.core.durations import duration

EVENT_TIME_OPERATOR = re.compile(
    r"Window(?:Aggregate|Join|Rank|Deduplicate|TableFunction)|IntervalJoin|OverAggregate"
    r"|\bMatch\b|TemporalSort"
)
"""Flink operator names (as the REST API's vertex names show them) that emit on watermarks.
An event-time temporal join is left out: it also waits for its versioned table's
watermark (a compacted topic's, which has no clock), and kappanb does not judge that."""


def has_event_time_operators(vertex_names: Iterable[str]) -> bool:
    return any(EVENT_TIME_OPERATOR.search(name) for name in vertex_names)


@dataclass(frozen=True)
class WatermarkHold:
    """The partition holding a run's watermark back, and how far behind the head it is."""

    topic: str
    partition: int
    behind_ms: int | None
    """Its newest event's distance to the topic's newest; None when it has no event."""

    def __str__(self) -> str:
        where = f"watermark held by partition {self.partition} of {self.topic}"
        if self.behind_ms is None:
            return f"{where}: it has no event yet"
        return f"{where}: newest event {duration(self.behind_ms)} behind"


def watermark_hold(
    watermark_ms: int | None,
    newest: Mapping[str, Mapping[int, int]],
    unread: Mapping[tuple[str, int], int],
    delays: Mapping[str, int],
) -> WatermarkHold | None:
    """The partition holding a run's watermark back, or None when its watermark reached the
    point its data closes, or when the partition that sets it still has records to read
    (the run is catching up, nothing holds it).

    ``newest``: per topic (with an event time) and non-empty partition, the event time of
    its last record; ``unread``: per (topic, partition) of those topics, the records the run
    has yet to read there; ``delays``: each topic's watermark delay (ms)."""
    levels = {
        (topic, p): at - delays.get(topic, 0)
        for topic, ps in newest.items()
        for p, at in ps.items()
    }
    if not levels:
        return None  # no event with an event time yet: nothing to close
    # Each topic's data closes up to its newest event; a job reading several waits for all.
    closing = min(max(ps.values()) - delays.get(t, 0) for t, ps in newest.items() if ps)
    if watermark_ms is not None and watermark_ms >= closing:
        return None
    if watermark_ms is None:
        empty = sorted(k for k in unread if k[0] in newest and k[1] not in newest[k[0]])
        if empty:
            return WatermarkHold(empty[0][0], empty[0][1], None)
        holder = min(levels, key=lambda k: levels[k])
    else:
        # The partition whose last event set the watermark: the lowest level not below it.
        at_or_above = {k: v for k, v in levels.items() if v >= watermark_ms}
        holder = min(at_or_above or levels, key=lambda k: levels[k])
    if unread.get(holder, 0) > READ_TO_ITS_END:
        return None  # still reading it: catching up
    topic, partition = holder
    return WatermarkHold(topic, partition, max(newest[topic].values()) - newest[topic][partition])


READ_TO_ITS_END = 100
"""Records a partition may still have unread and count as read to its end (Flink reports
positions up to half a second late, and a partition that holds may still receive events)."""
