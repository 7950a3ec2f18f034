"""Watching several versions of a job side by side: one `RunWatch` per run, one frame.

The watches are the process's shared ones (`kappanb.monitor.samplers`): a set holds a
lease on each, and gives them back when stopped or garbage-collected."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import polars as pl

from kappanb.core.durations import duration
from kappanb.display.html import html_table, link, text_table
from kappanb.display.plain import plain_text
from kappanb.flink.rest import FlinkRest
from kappanb.kafka.connection import KafkaConnection
from kappanb.monitor.bounded_reads import BoundedRead
from kappanb.monitor.history import CaughtUp, RunHistory, sample_hold
from kappanb.monitor.late_tally import LateTally
from kappanb.monitor.progress import CATCHING_UP, Progress, progress
from kappanb.monitor.release import release_hold
from kappanb.monitor.sample import MalformedCount, Sample, sample_run
from kappanb.monitor.samplers import SAMPLERS, Lease, SharedSamplers
from kappanb.monitor.verdicts import CaughtUpVerdicts
from kappanb.monitor.watcher import RunWatch
from kappanb.registry.records import RunRecord, TopicSpec
from kappanb.stack.endpoints import Endpoints

if TYPE_CHECKING:
    import altair as alt  # 2 s to import (its JSON-schema validators): only for charts


def _checkpoints(latest: Sample | None) -> str:
    """How many completed, and how long the last one took."""
    if latest is None:
        return "-"
    last = latest.last_checkpoint_ms
    return f"{latest.checkpoints}" + ("" if last is None else f" (last {duration(last)})")


@dataclass
class WatchedRun:
    """A run being watched, with what a status line needs about it."""

    watch: RunWatch
    web_url: str
    run_id: int | None = None
    lease: Lease | None = None
    """The set's share in a shared watch (None: the watch is the set's own)."""
    label: str = ""
    """How this set names the run ("" : the watch's own label): a replay of the version
    now served reads as the live one, whatever the shared watch was first called."""

    @property
    def name(self) -> str:
        return self.label or self.watch.label

    def progress(self) -> Progress:
        """Where the run is, in the words every view of it uses (`kappanb.monitor.progress`)."""
        w = self.watch
        latest = w.history.latest
        held = w.hold
        return progress(
            latest.state if latest else None, bounded=w.bounded, caught_up=w.judged_caught_up,
            behind=latest.behind_total if latest else None, threshold=w.rule.threshold,
            held=str(held) if held else "",
        )  # fmt: skip


@plain_text
class WatchSet:
    """The runs of one `watch` call. Text and HTML forms are a static snapshot."""

    def __init__(self, job: str, runs: Sequence[WatchedRun]) -> None:
        self.job, self.runs = job, list(runs)
        self.stopped = False
        """`stop` was called: the set no longer keeps its runs sampled."""

    def of_run(self, run_id: int) -> RunWatch | None:
        """The watch of one run (by registry id), if it is in this set."""
        return next((r.watch for r in self.runs if r.run_id == run_id), None)

    def start(self) -> WatchSet:
        for run in self.runs:
            run.watch.start()
        return self

    def stop(self) -> None:
        """Stop watching: give back each shared watch (its thread ends when nothing else
        watches the run) and stop the set's own watches. The runs go on."""
        self.stopped = True
        for run in self.runs:
            if run.lease is not None:
                run.lease.release()
            else:
                run.watch.stop()

    @property
    def done(self) -> bool:
        """Every run has ended, finished a bounded replay, or caught up."""
        return all(not r.watch.running or r.watch.finished or r.watch.caught_up for r in self.runs)

    def wait(self, timeout: float) -> bool:
        """Block until `done` or ``timeout`` seconds; True when done."""
        deadline = time.monotonic() + timeout
        while not self.done and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.done

    def frame(self) -> pl.DataFrame:
        """Every sample of every run, with a ``version`` column (the charts' input)."""
        frames = [
            r.watch.history.frame().with_columns(pl.lit(r.name).alias("version"))
            for r in self.runs
            if len(r.watch.history)
        ]
        if not frames:  # nothing sampled yet: no rows, but the columns the charts expect
            return RunHistory().frame().with_columns(pl.lit(None, pl.String).alias("version"))
        return pl.concat(frames)

    def _late(self) -> bool:
        """A run's windows dropped late records: the table gets a "late" column."""
        return any(_late_dropped(r.watch.history.latest) for r in self.runs)

    def status_rows(self) -> list[list[object]]:
        """One row per run under `headers`; numbers with thousands separators."""
        errors, late = any(r.watch.error for r in self.runs), self._late()
        rows: list[list[object]] = []
        for run in self.runs:
            w, latest, shown = run.watch, run.watch.history.latest, run.progress()
            eta = w.history.eta_seconds()
            lag = latest.event_time_lag_ms if latest else None
            rate = w.history.rate_now()
            rows.append([
                run.name, shown.state, f"{latest.behind_total:,}" if latest else "-",
                "-" if lag is None else duration(lag),
                "-" if rate is None else f"{rate:,.0f}/s",
                "-" if eta is None else f"{eta:,.0f} s",
                _checkpoints(latest), _malformed(latest), shown.where,
                *([f"{_late_dropped(latest):,} dropped"] if late else []),
                *([w.error or ""] if errors else []),
            ])  # fmt: skip
        return rows

    def headers(self) -> list[str]:
        """The table's columns; "error" only while a run has one."""
        errors = any(r.watch.error for r in self.runs)
        late = ["late"] if self._late() else []
        return [*self._HEADERS, *late, *(["error"] if errors else [])]

    def progress_line(self) -> str:
        """One line for a terminal: per run, records behind, rate, ETA, where it is."""
        parts = []
        for run in self.runs:
            w, latest, shown = run.watch, run.watch.history.latest, run.progress()
            if latest is None:
                parts.append(f"{run.name}: starting")
                continue
            eta = w.history.eta_seconds()
            where = shown.where if shown.where != CATCHING_UP else (
                "ETA -" if eta is None else f"ETA {eta:,.0f} s")  # fmt: skip
            rate = w.history.rate_now() or 0
            parts.append(
                f"{run.name}: {latest.behind_total:,} behind, {rate:,.0f}/s, {where}"
                + (f", {latest.malformed:,} malformed" if latest.malformed else "")
                + (f", {n:,} late dropped" if (n := _late_dropped(latest)) else "")
                + ("" if shown.state == "RUNNING" else f" ({shown.state})")
            )
        return f"{self.job}  " + " | ".join(parts)

    _HEADERS = (
        "version", "state", "behind", "event-time lag", "rate", "ETA", "checkpoints",
        "malformed", "progress",
    )  # fmt: skip

    def __str__(self) -> str:
        return f"{self.job}\n" + text_table(self.headers(), self.status_rows())

    def chart(self) -> alt.HConcatChart:
        """The panel's charts over every sample so far (a static snapshot)."""
        from kappanb.display.charts import panel_chart

        return panel_chart(self.frame())

    def _repr_html_(self) -> str:
        links = " ".join(str(link(r.web_url, f"{r.name} in Flink")) for r in self.runs)
        return f"<b>{self.job}</b> {links}" + html_table(self.headers(), self.status_rows())


def _counted(sample: Callable[[], Sample], count: MalformedCount, late: LateTally) -> Sample:
    return late(count(sample()))


def _late_dropped(latest: Sample | None) -> int:
    """Records the run's windows dropped as late (an event older than the watermark when
    it arrives: docs/reliability.md, "The trade-off for late events")."""
    return latest.late_dropped or 0 if latest is not None else 0


def _malformed(latest: Sample | None) -> str:
    if latest is None or latest.malformed is None:
        return "-"
    return f"{latest.malformed:,}"


def watch_runs(
    job: str,
    runs: Sequence[RunRecord],
    sources: Mapping[int, Sequence[TopicSpec]],
    rest: FlinkRest,
    endpoints: Endpoints,
    *,
    interval: float = 1.0,
    threshold: int = 1000,
    samplers: SharedSamplers | None = SAMPLERS,
    serving: int | None = None,
    verdicts: CaughtUpVerdicts | None = None,
    bounded: Mapping[int, Sequence[BoundedRead]] | None = None,
) -> WatchSet:
    """A watch per run (not started): the run's shared one from ``samplers``, or (None) one
    of the set's own. Replays compare their watermark with the live run's. An unbounded
    replay of the ``serving`` version (promoted) is labelled as the live run it now is.
    ``verdicts``: where a run's caught-up verdict is recorded for other processes (the panel).
    ``bounded``: per run id, the topics it reads only up to fixed offsets (the older
    version of a followed topic, `kappanb.monitor.bounded_reads`), besides ``sources``."""
    watched: list[WatchedRun] = []
    live: Lease | RunWatch | None = None
    for run in sorted(runs, key=lambda r: r.mode != "live"):  # live first
        make = partial(
            _run_watch, job, run, sources[run.version], rest, endpoints, interval, threshold,
            bounded=(bounded or {}).get(run.id, ()),
        )  # fmt: skip
        compare = live if run.mode != "live" else None
        lease: Lease | None = None
        if samplers is None:
            watch = make(compare if isinstance(compare, RunWatch) else None)
        else:
            key = (run.id, run.flink_job_id, threshold)
            build = partial(_leasing, make, samplers, compare, interval)
            lease = samplers.acquire(key, build, interval)
            watch = lease.watch
        if run.mode == "live" and live is None:
            live = lease or watch
        if verdicts is not None:
            watch.on_caught_up(partial(_record, verdicts, run.id, run.flink_job_id))
        label = run_label(run, serving)
        watched.append(WatchedRun(watch, endpoints.job_url(run.flink_job_id), run.id, lease, label))
    return WatchSet(job, watched)


def _record(verdicts: CaughtUpVerdicts, run_id: int, flink_job_id: str, _watch: RunWatch) -> None:
    verdicts.record(run_id, flink_job_id)


def run_label(run: RunRecord, serving: int | None = None) -> str:
    """``v2 replay``; ``v2 live`` once an unbounded replay's version is the one served."""
    promoted = run.mode != "live" and run.until is None and run.version == serving
    return f"v{run.version} {'live' if promoted else run.mode}"


def _run_watch(
    job: str, run: RunRecord, topics: Sequence[TopicSpec], rest: FlinkRest,
    endpoints: Endpoints, interval: float, threshold: int, live: RunWatch | None,
    bounded: Sequence[BoundedRead] = (),
) -> RunWatch:  # fmt: skip
    sample = partial(
        sample_run, rest, endpoints.kafka, run.flink_job_id, run.group_id,
        list(dict.fromkeys([*(b.topic for b in bounded), *(t.name for t in topics)])),
        {t.name: t.event_time for t in topics if t.event_time and not t.compact},
        bounded,
    )  # fmt: skip
    count = MalformedCount(endpoints.kafka, run.id, run.dead_letter_topics)
    delay = max((t.watermark_ms for t in topics), default=0)
    label = f"v{run.version} {run.mode}"
    watch = RunWatch(
        label, partial(_counted, sample, count, LateTally()), bounded=run.until is not None,
        rule=CaughtUp(threshold=threshold, watermark_delay_ms=delay, committed=True,
                      delays={t.name: t.watermark_ms for t in topics}),
        live_watermark=(lambda: None) if live is None else partial(_latest_watermark, live),
        interval=interval, thread_name=f"{job} {label} #{run.id}",
    )  # fmt: skip
    watch.on_update(partial(_release_hold, endpoints.kafka, topics))
    return watch


def _release_hold(
    connection: KafkaConnection, topics: Sequence[TopicSpec], watch: RunWatch
) -> None:
    """When a run has read everything and its watermark is still held below what its data
    closes, its topic's clock gets a heartbeat (`kappanb.monitor.release`)."""
    latest = watch.history.latest
    if latest is None or latest.state != "RUNNING" or latest.behind_total > watch.rule.threshold:
        return
    # Any plan: a watermark stuck below the data (even at none, when the partitions and the
    # empty clock fell quiet together) also holds what a temporal join emits.
    held = watch.rule.held_by or sample_hold(latest, watch.rule.delays, any_plan=True)
    if held is not None:
        release_hold(connection, topics, held, latest)


def _leasing(
    make: Callable[[RunWatch | None], RunWatch], samplers: SharedSamplers,
    live: Lease | RunWatch | None, interval: float,
) -> RunWatch:  # fmt: skip
    """A new shared watch; one that compares with the live run keeps that run sampled (a
    lease of its own on the live watch) until it stops sampling."""
    if not isinstance(live, Lease):
        return make(live)
    keep = samplers.acquire(live.key, lambda: live.watch, interval)
    watch = make(keep.watch)
    watch.after_sampling(keep.release)
    return watch


def _latest_watermark(live: RunWatch) -> int | None:
    latest = live.history.latest
    return latest.watermark_ms if latest else None
