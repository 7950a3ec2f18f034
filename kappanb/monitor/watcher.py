"""Watching a run: a background thread samples it about once a second until it ends.

Subscribers (the watch panel, the CLI's progress line) get each new sample and the
caught-up event; they never talk to Flink or Kafka themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from kappanb.monitor.history import CaughtUp, RunHistory
from kappanb.monitor.sample import Sample
from kappanb.registry.records import ACTIVE_STATES

Listener = Callable[["RunWatch"], None]


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
    ) -> None:
        self.label, self.bounded, self.interval = label, bounded, interval
        self.history = RunHistory()
        self.rule = rule or CaughtUp()
        self.error: str | None = None
        self._take, self._live_watermark = take, live_watermark
        self._updates: list[Listener] = []
        self._caught_up: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- what subscribers see ----------------------------------------------------------
    @property
    def caught_up(self) -> bool:
        return self.rule.fired

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
        self._caught_up.append(listener)

    # ---- the loop ----------------------------------------------------------------------
    def start(self) -> RunWatch:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"kappanb-watch-{self.label}",
                                            daemon=True)  # fmt: skip
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sample = self._take()
            except Exception as exc:  # the run may be gone; say why and stop sampling
                self.error = str(exc)
                self._notify(self._updates)
                return
            self.history.add(sample)
            fired = not self.bounded and self.rule.update(sample, self._live_watermark())
            self._notify(self._updates)
            if fired:
                self._notify(self._caught_up)
            if sample.state not in ACTIVE_STATES:
                return
            self._stop.wait(self.interval)

    def _notify(self, listeners: list[Listener]) -> None:
        for listener in list(listeners):
            try:
                listener(self)
            except Exception:  # a broken subscriber must not stop the sampling
                continue
