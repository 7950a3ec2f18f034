"""Watching a run: a background thread samples it about once a second until it ends.

Subscribers (the watch panel, the CLI's progress line) get each new sample and the
caught-up event; they never talk to Flink or Kafka themselves.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

from kappanb.monitor.history import CaughtUp, RunHistory
from kappanb.monitor.holds import WatermarkHold
from kappanb.monitor.sample import Sample
from kappanb.registry.records import ACTIVE_STATES

Listener = Callable[["RunWatch"], None]

_STARTED: weakref.WeakSet[RunWatch] = weakref.WeakSet()


def stop_all(timeout: float = 5.0) -> int:
    """Stop every watch of this process (the runs go on); how many were still sampling."""
    running = [w for w in list(_STARTED) if w.running]
    for watch in running:
        watch.stop(timeout)
    return len(running)


class RunWatch:
    """Samples one run in the background; ``caught_up`` and ``finished`` say where it is."""

    def __init__(
        self,
        label: str,
        take: Callable[[], Sample],
        *,
        bounded: bool = False,
        rule: CaughtUp | None = None,
        live_watermark: Callable[[], int | None] = lambda: None,
        interval: float = 1.0,
        max_failures: int = 5,
    ) -> None:
        self.label, self.bounded, self.interval = label, bounded, interval
        self.max_failures = max_failures
        """Consecutive failed samples (Flink or Kafka unreachable) after which it gives up."""
        self.history = RunHistory()
        self.rule = rule or CaughtUp()
        self.error: str | None = None
        self._take, self._live_watermark = take, live_watermark
        self._updates: list[Listener] = []
        self._caught_up: list[Listener] = []
        self._finished: list[Listener] = []
        self._events = threading.Lock()  # a listener added meanwhile is called exactly once
        self._settled = threading.Event()  # caught up, finished, or no longer sampled
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- what subscribers see ----------------------------------------------------------
    @property
    def caught_up(self) -> bool:
        return self.rule.fired

    @property
    def hold(self) -> WatermarkHold | None:
        """What holds the watermark of a run that has read everything, when windows its
        data closes have not fired yet (`kappanb.monitor.holds`)."""
        return None if self.caught_up or self.finished else self.rule.held_by

    @property
    def finished(self) -> bool:
        latest = self.history.latest
        return latest is not None and latest.state == "FINISHED"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def on_update(self, listener: Listener) -> None:
        self._updates.append(listener)

    def on_caught_up(self, listener: Listener) -> None:
        """Call ``listener`` once, when an unbounded run has caught up (see `CaughtUp`).

        Called at once when that already happened."""
        with self._events:
            self._caught_up.append(listener)
            already = self.caught_up
        if already:
            self._notify([listener])

    def on_finished(self, listener: Listener) -> None:
        """Call ``listener`` once, when a bounded replay has finished (at once if it has)."""
        with self._events:
            self._finished.append(listener)
            already = self.finished
        if already:
            self._notify([listener])

    def wait(self, timeout: float | None = None) -> bool:
        """Block until caught up, finished or no longer sampled; True unless timed out."""
        return self._settled.wait(timeout)

    # ---- the loop ----------------------------------------------------------------------
    def start(self) -> RunWatch:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"kappanb-watch-{self.label}",
                                            daemon=True)  # fmt: skip
            self._thread.start()
            _STARTED.add(self)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            self._sample_until_stopped()
        finally:
            self._settled.set()

    def _sample_until_stopped(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                sample = self._take()
            except Exception as exc:  # say why; give up only when it keeps failing
                self.error, failures = str(exc), failures + 1
                self._notify(self._updates)
                if failures >= self.max_failures:
                    return
                self._stop.wait(self.interval)
                continue
            self.error, failures = None, 0
            live_watermark = self._live_watermark()
            with self._events:
                was_finished = self.finished
                self.history.add(sample)
                fired = not self.bounded and self.rule.update(sample, live_watermark)
                on_caught_up = list(self._caught_up) if fired else []
                on_finished = list(self._finished) if self.finished and not was_finished else []
            self._notify(self._updates)
            if fired or on_finished or self.finished:
                self._settled.set()
            self._notify(on_caught_up)
            self._notify(on_finished)
            if sample.state not in ACTIVE_STATES:
                return
            self._stop.wait(self.interval)

    def _notify(self, listeners: list[Listener]) -> None:
        for listener in list(listeners):
            try:
                listener(self)
            except Exception:  # a broken subscriber must not stop the sampling
                continue
