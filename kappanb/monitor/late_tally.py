"""Late records a run's windows dropped, counted across Flink's restarts of its job.

Flink's ``numLateRecordsDropped`` is a metric of a task attempt: when the job restarts (a
lost TaskManager, a failure), the new attempt counts from 0 again, and the records the
earlier attempt dropped are still missing from the output. A `LateTally` keeps one run's
count across that: a count that falls is a new attempt's, and the last count seen of the
attempt before is added to it. It knows what it saw: a process that started watching after
a restart has only the new attempt's count (`status` then says "since Flink last
restarted it").
"""

from __future__ import annotations

import threading
from dataclasses import replace

from kappanb.monitor.sample import Sample


class LateTally:
    """One run's late drops across restarts of its Flink job (thread-safe)."""

    def __init__(self) -> None:
        self._before = 0
        self._last: int | None = None
        self._lock = threading.Lock()

    def __call__(self, sample: Sample) -> Sample:
        """The sample with ``late_dropped`` counted across restarts seen so far."""
        current = sample.late_dropped
        if current is None:  # no window operator, or its metric not listed yet
            return sample
        with self._lock:
            if self._last is not None and current < self._last:
                self._before += self._last  # a new attempt counts from 0 again
            self._last = current
            total = self._before + current
        return replace(sample, late_dropped=total)
