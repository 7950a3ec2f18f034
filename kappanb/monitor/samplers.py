"""One sampler per run per process, shared by every panel and handle that watches it.

A `RunWatch` polls Flink and Kafka about once a second in a thread of its own. Watching a
run leases its watch from `SAMPLERS`: the first lease builds and starts it, the next ones
get the same watch, with the samples it took so far. A run is known by its registry id and
its Flink job id (a resumed run is a new Flink job, sampled afresh), and by the caught-up
threshold asked for (another threshold is another question, with a rule of its own).

A lease is given back explicitly (a panel closed, `WatchSet.stop()`, a handle's
``stop_watching()``) or when it is garbage-collected (a dropped panel, set or handle).
When the last lease of a run goes, its thread stops. A run that ends stops its sampler by
itself; the next lease of it starts a new one. The watch samples at the shortest interval
its leases ask for.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from kappanb.monitor.watcher import RunWatch

SamplerKey = tuple[int, str, int]
"""A run's registry id, its Flink job id, and the caught-up threshold."""


@dataclass
class _Shared:
    watch: RunWatch
    intervals: dict[int, float] = field(default_factory=dict)
    """Per lease (by token), the interval it asked for."""


class Lease:
    """A share in one run's watch; ``release()`` (or garbage collection) gives it back."""

    def __init__(self, samplers: SharedSamplers, key: SamplerKey, token: int, watch: RunWatch):
        self.key, self.watch = key, watch
        self._give_back = weakref.finalize(self, samplers.give_back, key, token)

    @property
    def released(self) -> bool:
        return not self._give_back.alive

    def release(self, timeout: float = 5.0) -> None:
        """Give the share back; when it was the last, wait up to ``timeout`` s for the
        watch's thread to end (not when called from that thread)."""
        if self._give_back():
            self.watch.stop(timeout)


class SharedSamplers:
    """The watches of one process, by `SamplerKey`, with the leases held on each."""

    def __init__(self) -> None:
        self._shared: dict[SamplerKey, _Shared] = {}
        self._tokens = itertools.count(1)
        self._lock = threading.RLock()  # a finalizer may give back during an acquire

    def acquire(self, key: SamplerKey, build: Callable[[], RunWatch], interval: float) -> Lease:
        """A lease on the watch of ``key``: the one running (re-armed: `RunWatch.rearm`), or
        a new one from ``build()`` (not started: `RunWatch.start` it, which does nothing to
        one already started)."""
        with self._lock:
            shared = self._shared.get(key)
            if shared is None or shared.watch.ended:
                shared = self._shared[key] = _Shared(build())
            else:  # a new asker: "caught up" must hold for what happened up to now
                shared.watch.rearm()
            token = next(self._tokens)
            shared.intervals[token] = interval
            shared.watch.interval = min(shared.intervals.values())
            return Lease(self, key, token, shared.watch)

    def give_back(self, key: SamplerKey, token: int) -> bool:
        """Drop one lease; True when it was the last, and the watch was asked to stop."""
        with self._lock:
            shared = self._shared.get(key)
            if shared is None or shared.intervals.pop(token, None) is None:
                return False  # the run's watch was replaced since (it had ended)
            if shared.intervals:
                shared.watch.interval = min(shared.intervals.values())
                return False
            del self._shared[key]
        shared.watch.stop(timeout=0)  # no wait here: this may run in any thread, in a GC
        return True

    def leases(self, key: SamplerKey) -> int:
        """How many leases the watch of ``key`` has (0: none is shared)."""
        with self._lock:
            shared = self._shared.get(key)
            return len(shared.intervals) if shared is not None else 0


SAMPLERS = SharedSamplers()
"""The process's shared watches."""
