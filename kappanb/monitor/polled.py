"""The caught-up rule for a caller that polls instead of watching (the Jupyter panel).

A `RunWatch` samples once a second in a thread of its own; a panel asks every few
seconds. `PolledCatchUp` keeps one `CaughtUp` rule per run between those polls and feeds
each poll's sample to it, so a run counts as caught up by the same rule `watch` and
`promote` apply (`kappanb.monitor.history`): close to the head for ``hold`` samples in a
row, with a checkpoint completed since. Unlike a watch, which stays "caught up" once it
fired, a polled run that falls behind again is reported as catching up, and is judged
afresh from then on (as a new `promote` would judge it).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from kappanb.monitor.history import CaughtUp
from kappanb.monitor.holds import WatermarkHold
from kappanb.monitor.late_tally import LateTally
from kappanb.monitor.sample import Sample

RunKey = tuple[int, str]
"""A run's registry id and its Flink job id (a resumed run is judged afresh)."""


class PolledCatchUp:
    """Caught-up rules of the runs a poller has seen, kept between polls (thread-safe)."""

    def __init__(self, threshold: int = 1000, hold: int = 3) -> None:
        self.threshold, self.hold = threshold, hold
        self._rules: dict[RunKey, CaughtUp] = {}
        self._held: dict[RunKey, WatermarkHold | None] = {}
        self._late: dict[RunKey, LateTally] = {}
        self._lock = threading.Lock()

    def counted(self, run: RunKey, sample: Sample) -> Sample:
        """``sample`` with its late drops counted across the restarts seen between polls
        (`kappanb.monitor.late_tally`)."""
        with self._lock:
            tally = self._late.setdefault(run, LateTally())
        return tally(sample)

    def update(
        self, run: RunKey, sample: Sample, *, watermark_delay_ms: int = 0,
        live_watermark_ms: int | None = None, delays: Mapping[str, int] | None = None,
    ) -> bool:  # fmt: skip
        """Feed one sample of ``run``; True while it counts as caught up. ``delays``: each
        topic's watermark delay, to tell a watermark held back (`held_by`)."""
        with self._lock:
            rule = self._rules.get(run)
            if rule is None:
                rule = CaughtUp(threshold=self.threshold, hold=self.hold,
                                watermark_delay_ms=watermark_delay_ms, committed=True,
                                delays=dict(delays or {}))  # fmt: skip
                self._rules[run] = rule
            rule.update(sample, live_watermark_ms)
            self._held[run] = rule.held_by
            if rule.fired and rule.streak == 0:  # fell behind again: judge it afresh
                del self._rules[run]
                return False
            return rule.fired

    def held_by(self, run: RunKey) -> WatermarkHold | None:
        """What held the run's watermark back at its last update (`kappanb.monitor.holds`)."""
        with self._lock:
            return self._held.get(run)

    def forget_all_but(self, runs: set[RunKey]) -> None:
        """Drop the rules of runs that are no longer sampled (ended, or not shown)."""
        with self._lock:
            for key in set(self._rules) - runs:
                del self._rules[key]
            for key in set(self._held) - runs:
                del self._held[key]
            for key in set(self._late) - runs:
                del self._late[key]
