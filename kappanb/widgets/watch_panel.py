"""The watch panel: a status table and the panel charts, refreshed in place as samples arrive.

Sampling happens in the `RunWatch` threads; the panel only reads their histories, at most
once per ``min_interval`` seconds, and stops listening when closed or when every run ended.
Those threads are shared by every panel and handle of a run: closing a panel, or dropping
it, gives its share back (`kappanb.monitor.samplers`).

What the notebook keeps: the panel is displayed with a display id, as the live widget
plus a static snapshot (status table and a PNG of the charts) for frontends without
widgets (nbconvert, nbval, GitHub). When the watched replay has caught up or finished the
snapshot is refreshed; when every run has ended, or the panel is closed, the output is
replaced by the final static snapshot, so a saved notebook shows how the runs ended.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

from kappanb.display.charts import panel_chart, panel_charts
from kappanb.display.snapshot import static_bundle
from kappanb.monitor.watch_set import WatchSet
from kappanb.monitor.watcher import RunWatch
from kappanb.registry.records import ACTIVE_STATES
from kappanb.widgets.lasting_display import LastingDisplay

if TYPE_CHECKING:
    from kappanb.runs.report import RunHandle


_OFFLINE = threading.Lock()
_offline_done = False


def _charts_offline() -> None:
    """Have `JupyterChart` bring its JavaScript from the kernel (bundled by vl-convert),
    not from a CDN at display time: panels then draw behind firewalls and offline too."""
    global _offline_done
    import altair as alt

    with _OFFLINE:
        if not _offline_done:
            _offline_done = True
            try:
                alt.JupyterChart.enable_offline()
            except Exception:  # keep altair's default (a CDN) rather than fail the panel
                return


class WatchPanel:
    """A VBox with a header, the status table and an altair `JupyterChart`."""

    def __init__(
        self, watch: WatchSet, min_interval: float = 1.0, header: str | Callable[[], str] = ""
    ) -> None:
        import altair as alt
        import ipywidgets as widgets

        self.watch, self.min_interval, self.header = watch, min_interval, header
        self.updates = 0
        self.error: str | None = None
        self.snapshots = 0
        self._last = 0.0
        self._lock = threading.Lock()
        self._closed = False
        self._settled_shown = False
        self._final_shown = False
        self._display = LastingDisplay()
        self.status = widgets.HTML(self._status_html())
        _charts_offline()
        self.charts = [alt.JupyterChart(c) for c in panel_charts(watch.frame())]
        # The charts wrap onto the next line rather than widen the output area (a row of
        # three was cut off, its legend with it, and scrolled sideways while runs updated).
        wrap = widgets.Layout(display="flex", flex_flow="row wrap", width="100%",
                              max_width="100%", overflow="hidden")  # fmt: skip
        self.chart_row = widgets.Box(self.charts, layout=wrap)
        fit = widgets.Layout(width="100%", max_width="100%", overflow="hidden")
        self.widget = widgets.VBox([self.status, self.chart_row], layout=fit)
        for run in watch.runs:  # weakly: a dropped panel gives its runs' samplers back
            run.watch.on_update(self._on_update, weak=True)
        self.refresh()  # runs that ended before we subscribed are shown as they ended

    # ---- refreshing ----------------------------------------------------------------------
    def _status_html(self) -> str:
        problem = f'<p style="color:#b00">{escape(self.error)}</p>' if self.error else ""
        header = self.header() if callable(self.header) else self.header
        return header + self.watch._repr_html_() + problem

    def _on_update(self, _watch: RunWatch) -> None:
        now = time.monotonic()
        ended = self._ended(_watch)
        if self._closed or (now - self._last < self.min_interval and not ended):
            return
        with self._lock:
            self._last = now
            try:
                self.refresh()
                if ended:
                    self._show_final()
                elif self.watch.done and not self._settled_shown:
                    self._settled_shown = True
                    self._update_display(live=True)
            except Exception as exc:  # say so in the panel: a listener's error is swallowed
                self.error = f"the panel could not redraw: {type(exc).__name__}: {exc}"
                self.status.value = self._status_html()

    def _ended(self, updating: RunWatch) -> bool:
        """Every run but the one reporting now has stopped, and that one's run ended."""
        others = any(r.watch.running for r in self.watch.runs if r.watch is not updating)
        latest = updating.history.latest
        this_ended = updating.error is not None or (
            latest is not None and latest.state not in ACTIVE_STATES
        )
        return not others and this_ended

    def refresh(self) -> None:
        """Redraw from the histories (also called once more at the end)."""
        frame = self.watch.frame()
        self.status.value = self._status_html()
        if frame.height:
            for widget, chart in zip(self.charts, panel_charts(frame), strict=True):
                widget.chart = chart
        self.updates += 1

    def close(self) -> None:
        """Stop listening, give back the runs' samplers (each stops when nothing else
        watches its run), leave the final snapshot."""
        self._closed = True
        for run in self.watch.runs:
            run.watch.remove_update(self._on_update)
        self.watch.stop()
        with self._lock:
            self._show_final()
        self.widget.close()

    # ---- what the notebook shows and keeps -------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The static form: text, HTML status and the charts as PNG (no widget)."""
        frame = self.watch.frame()
        chart = panel_chart(frame) if frame.height else None
        self.snapshots += 1
        return static_bundle(str(self.watch), self._status_html(), chart)

    def _bundle(self, live: bool) -> dict[str, Any]:
        bundle = self.snapshot() if live and self.updates > 1 else self._quick_snapshot()
        if live:
            data = self.widget._repr_mimebundle_()
            data = data[0] if isinstance(data, tuple) else data
            bundle.update({k: v for k, v in data.items() if k != "text/plain"})
        return bundle

    def _quick_snapshot(self) -> dict[str, Any]:
        """The first display: no samples yet worth a picture."""
        return static_bundle(str(self.watch), self._status_html(), None)

    def _update_display(self, live: bool) -> None:
        if self._display.shown:
            self._display.update(self._bundle(live) if live else self.snapshot())

    def _show_final(self) -> None:
        if not self._final_shown:
            self._final_shown = True
            self._update_display(live=False)

    def _ipython_display_(self) -> None:
        self._display.show(self._bundle(live=True))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self._bundle(live=True)


class RunPanel(WatchPanel):
    """What a `RunHandle` of `run` / `replay` shows: the run's summary over its job's
    watch panel. The handle builds it on first display and keeps it (``handle.view``)."""

    def __init__(self, handle: RunHandle, min_interval: float = 1.0) -> None:
        if handle.watch is None:
            raise ValueError("a RunPanel needs a handle that watches its job")
        self.handle = handle
        # Rebuilt on each redraw: the heading's state is the table's, never the state
        # the run had when the panel was made.
        super().__init__(handle.watch, min_interval, header=handle._repr_html_)

    def __str__(self) -> str:
        return str(self.handle)
