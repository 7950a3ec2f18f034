"""Watching a run: a background thread samples it about once a second until it ends.

Subscribers (the watch panel, the CLI's progress line) get each new sample and the
caught-up event; they never talk to Flink or Kafka themselves. One `RunWatch` per run is
shared by every subscriber of a process (`kappanb.monitor.samplers`), so nothing here
holds a subscriber alive longer than it has to: an update listener can be held weakly
and removed, and the once-only listeners are dropped once called or once sampling ends.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import replace

from kappanb.monitor.history import CaughtUp, RunHistory
from kappanb.monitor.holds import WatermarkHold
from kappanb.monitor.log_waiter import LogWaiter
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


class _Updates:
    """Update listeners, each held strongly or (a bound method) weakly."""

    def __init__(self) -> None:
        self._held: list[Listener | weakref.WeakMethod[Listener]] = []
        self._lock = threading.Lock()

    def add(self, listener: Listener, weak: bool) -> None:
        held = weakref.WeakMethod(listener) if weak else listener
        with self._lock:
            self._held.append(held)

    def remove(self, listener: Listener) -> None:
        with self._lock:
            self._held = [h for h in self._held if _alive(h) not in (listener, None)]

    def alive(self) -> list[Listener]:
        """The listeners still there (weak ones whose owner went are dropped)."""
        with self._lock:
            pairs = [(h, _alive(h)) for h in self._held]
            self._held = [h for h, live in pairs if live is not None]
        return [live for _h, live in pairs if live is not None]


def _alive(held: Listener | weakref.WeakMethod[Listener]) -> Listener | None:
    return held() if isinstance(held, weakref.WeakMethod) else held


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
        thread_name: str | None = None,
    ) -> None:
        self.label, self.bounded, self.interval = label, bounded, interval
        """``interval``: seconds between samples, read before each wait (a shared watch
        takes the shortest its subscribers ask for)."""
        self.max_failures = max_failures
        """Consecutive failed samples (Flink or Kafka unreachable) after which it gives up."""
        self.history = RunHistory()
        self.rule = rule or CaughtUp()
        self._judged_before = False  # the rule fired once, before a `rearm`
        self.error: str | None = None
        self._take, self._live_watermark = take, live_watermark
        self._thread_name = f"kappanb-watch-{thread_name or label}"
        self._updates = _Updates()
        self._caught_up: list[Listener] = []
        self._finished: list[Listener] = []
        self._after: list[Callable[[], None]] = []
        self._events = threading.Lock()  # a listener added meanwhile is called exactly once
        self._done = False  # sampling has ended: once-only listeners can no longer fire
        self._settled = threading.Event()  # caught up, finished, or no longer sampled
        self._stop = threading.Event()
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None

    # ---- what subscribers see ----------------------------------------------------------
    @property
    def caught_up(self) -> bool:
        """The rule has fired since the last `rearm`: what `wait` waits for."""
        return self.rule.fired

    @property
    def judged_caught_up(self) -> bool:
        """The rule fired for this run at some point, re-armed since or not: what every view
        shows as "caught up" while the run stays close to the head (`kappanb.monitor.progress`),
        as the side panel does from the recorded verdict. A new watch of the run re-arms the
        rule for its own `wait`; that must not make a view say "at the head" meanwhile."""
        return self.rule.fired or self._judged_before

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

    @property
    def ended(self) -> bool:
        """Sampling has ended or was asked to end: it will take no more samples."""
        return self._stop.is_set() or (self._thread is not None and not self._thread.is_alive())

    def rearm(self) -> None:
        """Judge "caught up" afresh from the next samples (a new `watch` or handle of a
        shared run asks now: what it produced since must be read and committed first, as
        a watch of its own would require). Finished and ended watches stay as they are."""
        with self._events:
            if self.bounded or self.finished or self.ended or not self.rule.fired:
                return
            self._judged_before = True
            self.rule = replace(
                self.rule, streak=0, fired=False, checkpoints_when_close=None, held_by=None
            )
            self._settled.clear()

    def on_update(self, listener: Listener, *, weak: bool = False) -> None:
        """Call ``listener`` after each sample. ``weak`` (a bound method): do not keep its
        object alive; the listener goes when the object does."""
        self._updates.add(listener, weak)

    def remove_update(self, listener: Listener) -> None:
        self._updates.remove(listener)

    def on_caught_up(self, listener: Listener) -> None:
        """Call ``listener`` once, when an unbounded run has caught up (see `CaughtUp`).

        Called at once when that already happened."""
        with self._events:
            already = self.caught_up
            if not already and not self._done:
                self._caught_up.append(listener)
        if already:
            self._notify([listener])

    def on_finished(self, listener: Listener) -> None:
        """Call ``listener`` once, when a bounded replay has finished (at once if it has)."""
        with self._events:
            already = self.finished
            if not already and not self._done:
                self._finished.append(listener)
        if already:
            self._notify([listener])

    def after_sampling(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once when sampling ends (run ended, gave up, or stopped)."""
        self._after.append(callback)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until caught up, finished or no longer sampled; True unless timed out."""
        return self._settled.wait(timeout)

    def wait_for_log(self, timeout: float | None = None) -> bool:
        """Block until the run has caught up (`CaughtUp`) *and* committed, in a completed
        checkpoint, every record the log held when asked; True when it has.

        Unlike ``caught_up``, which stays once met, this judges from the log as it is now:
        after a `produce`, a read right after it returns shows the produced records. The
        target is fixed when asked, so a feed that goes on cannot starve it. A bounded
        replay waits to finish instead. Returns False at ``timeout`` or when sampling
        ends first (the run stopped or failed)."""
        if self.bounded:
            self.wait(timeout)
            return self.finished
        waiter = LogWaiter()
        self.on_update(waiter)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not waiter.done.wait(0.5):
                if self.ended or (deadline is not None and time.monotonic() >= deadline):
                    break
        finally:
            self.remove_update(waiter)
        return waiter.reached

    # ---- the loop ----------------------------------------------------------------------
    def start(self) -> RunWatch:
        """Start sampling; nothing when it was started (by any of its sharers) or stopped."""
        with self._starting:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._loop, name=self._thread_name,
                                                daemon=True)  # fmt: skip
                self._thread.start()
                _STARTED.add(self)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end; wait up to ``timeout`` s for it (not from the loop itself)."""
        with self._starting:
            never_started = self._thread is None and not self._stop.is_set()
            self._stop.set()
        if never_started:
            self._end()
        elif self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            self._sample_until_stopped()
        finally:
            self._end()

    def _end(self) -> None:
        with self._events:
            self._done = True
            self._caught_up.clear()  # they can no longer be called: hold nobody alive
            self._finished.clear()
        self._settled.set()
        after, self._after = self._after, []
        for callback in after:
            try:
                callback()
            except Exception:  # releasing what it held must not fail the thread's end
                continue

    def _sample_until_stopped(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                sample = self._take()
            except Exception as exc:  # say why; give up only when it keeps failing
                self.error, failures = str(exc), failures + 1
                self._notify(self._updates.alive())
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
                on_caught_up = _taken(self._caught_up) if fired else []
                now_finished = self.finished and not was_finished
                on_finished = _taken(self._finished) if now_finished else []
            self._notify(self._updates.alive())
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


def _taken(listeners: list[Listener]) -> list[Listener]:
    """All of ``listeners``, which is emptied (once-only listeners)."""
    taken = list(listeners)
    listeners.clear()
    return taken
