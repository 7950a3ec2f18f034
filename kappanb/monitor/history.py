"""A bounded history of samples per run, and what is derived from it.

Derived figures:

- **records behind the head**: per partition and in total (see `Sample.behind`);
- **throughput**: records read per second between the oldest and newest sample of the
  last ``window`` seconds, from read positions (so it is exact, not Flink's 60 s meter);
  samples taken before the run reported any position (while it starts) do not count;
- **ETA**: records behind divided by the net rate at which the gap closes (throughput
  minus the rate at which the head grows), ``None`` when the gap is not closing;
- **event-time lag**: the head's newest event time minus the run's watermark, when the
  caller knows the head's event time.

**Caught up** (the rule `CaughtUp` applies): the run is RUNNING, at most ``threshold``
records behind the head in total, and — when a live version's watermark is given — its
watermark is within the topic's watermark delay of the live one; all of that held for
``hold`` consecutive samples; and (``committed``, as kappanb watches runs) a checkpoint
has completed since it first got that close, so its output up to the head is committed
to its table, where `diff` and readers see it. A bounded replay is not "caught up" but
"finished".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import polars as pl

from kappanb.monitor.holds import WatermarkHold, watermark_hold
from kappanb.monitor.sample import NO_WATERMARK, Sample


def metric_topic(topic: str) -> str:
    """How Flink's metrics spell a topic name (dots become underscores)."""
    return topic.replace(".", "_")


class RunHistory:
    """The last ``size`` samples of one run (about ten minutes at one a second).

    ``window`` is the span, in seconds, that rates and the ETA are computed over."""

    def __init__(self, size: int = 600, window: float = 5.0) -> None:
        self._samples: deque[Sample] = deque(maxlen=size)
        self.window = window

    def add(self, sample: Sample) -> None:
        self._samples.append(sample)

    def __len__(self) -> int:
        return len(self._samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self._samples)

    @property
    def latest(self) -> Sample | None:
        return self._samples[-1] if self._samples else None

    def _recent(self) -> tuple[Sample, Sample] | None:
        """The first and last sample of the window, among those that know a position."""
        if not self._samples:
            return None
        since = self._samples[-1].tick - self.window
        recent = [s for s in self._samples if s.tick >= since and (s.read_positions or s.committed)]
        if len(recent) < 2 or recent[-1].tick <= recent[0].tick:
            return None
        return recent[0], recent[-1]

    def throughput(self) -> float | None:
        """Records read per second over the recent window."""
        pair = self._recent()
        if pair is None:
            return None
        first, last = pair
        return (_read(last) - _read(first)) / (last.tick - first.tick)

    def eta_seconds(self) -> float | None:
        """Seconds until the gap to the head closes at the recent net rate, or None."""
        pair, latest = self._recent(), self.latest
        if (
            latest is not None
            and latest.behind_total == 0
            and (latest.read_positions or latest.committed)
        ):
            return 0.0  # nothing left (by a known position, not a run that has not begun)
        if pair is None or latest is None:
            return None
        first, last = pair
        closing = (first.behind_total - last.behind_total) / (last.tick - first.tick)
        return latest.behind_total / closing if closing > 0 else None

    def _rates(self, span: float = 3.0) -> list[float]:
        """Per sample, records read per second over the last ``span`` seconds, from
        positions (exact; the span smooths Flink's metric cache, which can hand two
        samples the same position); Flink's own meter (a 60 s average) when no position
        is known yet."""
        rates: list[float] = []
        known: list[Sample] = []
        for sample in self._samples:
            if not (sample.read_positions or sample.committed):
                rates.append(sample.records_in_per_s)
                continue
            known.append(sample)
            start = next((k for k in known if k.tick >= sample.tick - span), sample)
            if start is sample and len(known) > 1:
                start = known[-2]  # samples further apart than the span
            elapsed = sample.tick - start.tick
            rates.append(max(0.0, (_read(sample) - _read(start)) / elapsed) if elapsed else 0.0)
        return rates

    def rate_now(self) -> float | None:
        """The rate of the newest sample: the last point of the records/s chart, so the
        table and the chart say the same (None before the first sample)."""
        rates = self._rates()
        return rates[-1] if rates else None

    def frame(self) -> pl.DataFrame:
        """One row per sample: the figures the charts draw. ``at`` is each sample's time
        as the newest sample's wall clock tells it: a step of the wall clock between two
        samples moves the whole axis, never one point before the one it follows."""
        wall, tick = (self.latest.at, self.latest.tick) if self.latest else (0.0, 0.0)
        return pl.DataFrame(
            {
                "at": [wall - (tick - s.tick) for s in self._samples],
                "state": [s.state for s in self._samples],
                "records_in_per_s": self._rates(),
                "behind": [s.behind_total for s in self._samples],
                "watermark_ms": [s.watermark_ms for s in self._samples],
                "head_event_ms": [s.head_event_ms for s in self._samples],
                "checkpoints": [s.checkpoints for s in self._samples],
            },
            schema_overrides={"watermark_ms": pl.Int64, "head_event_ms": pl.Int64},
        )


def _read(sample: Sample) -> int:
    """Records read so far, by the positions `Sample.behind` counts from (Flink's, else
    the group's committed offsets): a rate that moves whenever "behind" does."""
    if not sample.end_offsets:
        return sum(sum(p.values()) for p in sample.read_positions.values())
    ends = sum(sum(p.values()) for p in sample.end_offsets.values())
    return ends - sample.behind_total


@dataclass
class CaughtUp:
    """The caught-up rule (module docstring); ``update`` returns True once, when it is met."""

    threshold: int = 1000
    hold: int = 3
    watermark_delay_ms: int = 0
    committed: bool = False
    """Also wait for a checkpoint completed after the run first got close."""
    delays: Mapping[str, int] = field(default_factory=dict)
    """Per topic (as named in Kafka): its watermark delay (ms), for `watermark_hold`."""
    streak: int = 0
    fired: bool = False
    checkpoints_when_close: int | None = None
    held_by: WatermarkHold | None = None
    """In the newest sample: the partition holding the watermark of a run that has read
    everything, while windows its data closes have not fired (not caught up then)."""

    def update(self, sample: Sample, live_watermark_ms: int | None = None) -> bool:
        running = sample.state == "RUNNING"
        self.held_by = sample_hold(sample, self.delays) if running else None
        close = running and sample.behind_total <= self.threshold and self.held_by is None
        if close and live_watermark_ms is not None:
            own = sample.watermark_ms
            close = own is not None and live_watermark_ms - own <= self.watermark_delay_ms
        self.streak = self.streak + 1 if close else 0
        if not close:
            self.checkpoints_when_close = None
        elif self.checkpoints_when_close is None:
            self.checkpoints_when_close = sample.checkpoints
        if self.committed and (
            self.checkpoints_when_close is None or sample.checkpoints <= self.checkpoints_when_close
        ):
            return False
        if self.streak >= self.hold and not self.fired:
            self.fired = True
            return True
        return False


def sample_hold(
    sample: Sample, delays: Mapping[str, int], *, any_plan: bool = False
) -> WatermarkHold | None:
    """`watermark_hold` of a sampled run whose plan waits on watermarks (``any_plan``: of
    any run, as releasing a held watermark wants); None otherwise."""
    if not (any_plan or sample.event_time_operators) or not sample.partition_event_ms:
        return None
    watermark = sample.operator_watermark_ms
    if watermark is None:  # the event-time operators are chained to the sources
        watermark = sample.watermark_ms
    elif watermark == NO_WATERMARK:
        watermark = None
    spelled = {metric_topic(t): t for t in sample.partition_event_ms}
    unread = {(spelled[t], p): n for (t, p), n in sample.behind().items() if t in spelled}
    return watermark_hold(watermark, sample.partition_event_ms, unread, delays)
