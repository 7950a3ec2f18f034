"""The watch panel refreshes in place from background samples and leaves no thread behind.

The runs are `RunWatch`es over scripted samples (the panel and the loop do no I/O here).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable

import pytest
from IPython.core.interactiveshell import InteractiveShell

from kappanb.monitor.sample import Sample
from kappanb.monitor.watch_set import WatchedRun, WatchSet
from kappanb.monitor.watcher import RunWatch
from kappanb.widgets.watch_panel import WatchPanel

T = "t"


def endless(label: str, rate: int) -> Callable[[], Sample]:
    count = {"n": 0}

    def take() -> Sample:
        count["n"] += 1
        read = min(10_000, rate * count["n"])
        return Sample(at=time.time(), state="RUNNING", watermark_ms=1_772_000_000_000 + read,
                      read_positions={T: {0: read}}, end_offsets={T: {0: 10_000}})  # fmt: skip

    return take


def panel_over(*labels: str) -> WatchPanel:
    runs = [WatchedRun(RunWatch(label, endless(label, 500), interval=0.02), f"http://x/{label}")
            for label in labels]  # fmt: skip
    return WatchPanel(WatchSet("job", runs).start(), min_interval=0.05)


def test_panel_updates_while_a_cell_runs_and_stops_on_close() -> None:
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    panel = panel_over("v1 live", "v2 replay")
    try:
        before = panel.updates
        started = time.monotonic()
        result = shell.run_cell("import time; time.sleep(0.5); 'done'")
        assert result.result == "done" and time.monotonic() - started < 2.0  # the kernel is free
        assert panel.updates > before  # and the panel refreshed meanwhile
        assert len(panel.charts) == 3
        for chart in panel.charts:
            spec = chart.chart.to_dict()
            assert len(spec["datasets"]) == 1 and next(iter(spec["datasets"].values()))
        assert "v2 replay" in panel.status.value
    finally:
        panel.close()
        InteractiveShell.clear_instance()
    assert not any(t.name.startswith("kappanb-watch-") for t in threading.enumerate())
    frozen = panel.updates
    time.sleep(0.2)
    assert panel.updates == frozen  # closed: no more refreshes


def test_panel_stops_when_its_runs_end() -> None:
    steps = iter(["RUNNING", "RUNNING", "FINISHED"])

    def take() -> Sample:
        state = next(steps, "FINISHED")
        return Sample(at=time.time(), state=state, read_positions={T: {0: 1}},
                      end_offsets={T: {0: 1}})  # fmt: skip

    watch = RunWatch("v2 replay", take, bounded=True, interval=0.01)
    watches = WatchSet("job", [WatchedRun(watch, "http://x")])
    panel = WatchPanel(watches, 0.0)
    first = panel.updates
    watches.start()
    deadline = time.monotonic() + 5
    while watch.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not watch.running and watch.finished
    assert panel.updates > first and "finished" in panel.status.value
    assert len(panel.watch.frame()) == 3


def test_the_notebook_keeps_a_static_snapshot_and_the_final_one_replaces_the_widget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    published: list[tuple[dict[str, object], dict[str, object], bool]] = []

    def publish(data: dict[str, object], metadata: object = None, *, transient: object = None,
                update: bool = False, **_: object) -> None:  # fmt: skip
        published.append((data, dict(transient or {}), update))

    monkeypatch.setattr(shell.display_pub, "publish", publish)  # record instead of printing
    steps = iter(["RUNNING"] * 5 + ["FINISHED"])

    def take() -> Sample:
        return Sample(at=time.time(), state=next(steps, "FINISHED"), watermark_ms=1_772_000_000_000,
                      read_positions={T: {0: 5}}, end_offsets={T: {0: 5}})  # fmt: skip

    watch = RunWatch("v2 replay", take, bounded=True, interval=0.01)
    panel = WatchPanel(WatchSet("job", [WatchedRun(watch, "http://x")]), 0.0)
    try:
        panel._ipython_display_()  # what IPython does with the value a cell returns
        first, ids, update = published[0]
        widget_view = "application/vnd.jupyter.widget-view+json"
        assert widget_view in first and "text/html" in first and not update  # live + fallback
        display_id = ids["display_id"]
        watch.start()

        def final_published() -> bool:  # `_final_shown` is set before the PNG is rendered
            data, _ids, update = published[-1]
            return update and widget_view not in data

        deadline = time.monotonic() + 60  # a bound for a loaded machine, not a guess
        while (watch.running or not final_published()) and time.monotonic() < deadline:
            time.sleep(0.01)
        last, last_ids, last_update = published[-1]
        assert last_update and last_ids["display_id"] == display_id  # the same output, replaced
        assert widget_view not in last  # the final form is static
        png = base64.b64decode(str(last["image/png"]))
        assert png.startswith(b"\x89PNG") and len(png) > 2000  # a real picture of the charts
        assert "finished" in str(last["text/plain"]) and "<img" in str(last["text/html"])
    finally:
        panel.close()
        InteractiveShell.clear_instance()
    assert len([p for p in published if p[2]]) == 1  # closing later adds no second final


def test_panels_of_one_run_share_its_sampler_until_the_last_is_closed_or_dropped() -> None:
    import gc

    from kappanb.monitor.samplers import SharedSamplers

    samplers = SharedSamplers()

    def panel() -> WatchPanel:
        lease = samplers.acquire(
            (1, "f", 1000), lambda: RunWatch("shared", endless("shared", 100), interval=0.02), 0.02
        )
        watches = WatchSet("job", [WatchedRun(lease.watch, "http://x", 1, lease)])
        return WatchPanel(watches.start(), min_interval=0.0)

    def samplers_running() -> int:
        return sum(t.name == "kappanb-watch-shared" for t in threading.enumerate())

    closed, dropped, kept = panel(), panel(), panel()
    assert samplers_running() == 1 and kept.watch.runs[0].watch is closed.watch.runs[0].watch
    closed.close()
    del dropped
    gc.collect()
    before = kept.updates
    deadline = time.monotonic() + 5
    while kept.updates < before + 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert kept.updates >= before + 3 and samplers_running() == 1  # still sampled for `kept`
    frozen = closed.updates
    del kept
    gc.collect()
    deadline = time.monotonic() + 5
    while samplers_running() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert samplers_running() == 0 and closed.updates == frozen


def test_the_charts_wrap_to_fit_the_output_area_and_keep_their_legend_on_top() -> None:
    panel = panel_over("v1 live", "v2 replay")
    try:
        row = panel.chart_row.layout
        assert (row.flex_flow, row.width, row.max_width) == ("row wrap", "100%", "100%")
        assert panel.widget.layout.max_width == "100%"
        assert list(panel.chart_row.children) == panel.charts
        for chart in panel.charts:
            spec = chart.chart.to_dict()
            layer = spec.get("layer", [spec])[0]
            assert layer["encoding"]["color"]["legend"]["orient"] == "top"
            assert (
                spec.get("width", layer.get("width")) <= 260
            )  # three fit 1000 px, two fit 700, else one a line
    finally:
        panel.close()


def test_a_run_panels_heading_says_what_its_table_row_says() -> None:
    from kappanb.registry.records import RunRecord
    from kappanb.runs.report import RunHandle

    steps = iter(["RUNNING", "RUNNING", "FINISHED"])

    def take() -> Sample:
        return Sample(at=time.time(), state=next(steps, "FINISHED"),
                      read_positions={T: {0: 5}}, end_offsets={T: {0: 5}})  # fmt: skip

    watch = RunWatch("v2 replay", take, bounded=True, interval=0.01)
    watches = WatchSet("daily", [WatchedRun(watch, "http://x", 2)])
    run = RunRecord(id=2, job="daily", version=2, mode="replay", table="daily__v2",
                    group_id="g", flink_job_id="f", state="RUNNING", start="earliest",
                    until="latest", started_at="")  # fmt: skip
    handle = RunHandle(run, "http://x", watch=watches)
    panel = handle.view
    try:
        assert "daily v2 replay run #2: starting" in panel.status.value
        watches.start()
        assert watch.wait(5) and watch.finished
        deadline = time.monotonic() + 5
        while "FINISHED · finished" not in panel.status.value and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "daily v2 replay run #2: FINISHED · finished" in panel.status.value
        assert "RUNNING" not in panel.status.value  # not the state it had when made
    finally:
        panel.close()
