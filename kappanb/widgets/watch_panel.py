"""The watch panel: a status table and the panel charts, refreshed in place as samples arrive.

Sampling happens in the `RunWatch` threads; the panel only reads their histories, at most
once per ``min_interval`` seconds, and stops listening when closed or when every run ended.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from kappanb.display.charts import panel_chart
from kappanb.monitor.watch_set import WatchSet
from kappanb.monitor.watcher import RunWatch


class WatchPanel:
    """A VBox with the status table over an altair `JupyterChart`."""

    def __init__(self, watch: WatchSet, min_interval: float = 1.0) -> None:
        import altair as alt
        import ipywidgets as widgets

        self.watch, self.min_interval = watch, min_interval
        self.updates = 0
        self._last = 0.0
        self._lock = threading.Lock()
        self._closed = False
        self.status = widgets.HTML(watch._repr_html_())
        self.chart = alt.JupyterChart(panel_chart(watch.frame()))
        self.widget = widgets.VBox([self.status, self.chart])
        for run in watch.runs:
            run.watch.on_update(self._on_update)
        self.refresh()  # runs that ended before we subscribed are shown as they ended

    def _on_update(self, _watch: RunWatch) -> None:
        now = time.monotonic()
        ended = not any(r.watch.running for r in self.watch.runs if r.watch is not _watch)
        if self._closed or (now - self._last < self.min_interval and not ended):
            return
        with self._lock:
            self._last = now
            self.refresh()

    def refresh(self) -> None:
        """Redraw from the histories (also called once more at the end)."""
        frame = self.watch.frame()
        self.status.value = self.watch._repr_html_()
        if frame.height:
            self.chart.chart = panel_chart(frame)
        self.updates += 1

    def close(self) -> None:
        """Stop listening and stop the watches' threads."""
        self._closed = True
        self.watch.stop()
        self.widget.close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
