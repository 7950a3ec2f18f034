"""What the user sees of runs: a handle returned by run/replay, and the status table."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any, Literal

from kappanb.display.html import Raw, html_table, link, path, text_table
from kappanb.display.plain import plain_text
from kappanb.exceptions import RunNotFoundError
from kappanb.history.archive_report import ArchiveLag
from kappanb.registry.kinds import RunState
from kappanb.registry.records import JobVersion, RunRecord

if TYPE_CHECKING:
    from kappanb.monitor.watch_set import WatchSet
    from kappanb.monitor.watcher import RunWatch
    from kappanb.stack.status import ServiceStatus

_HEADERS = [
    "job", "version", "mode", "state", "Flink job", "group", "table", "from", "until",
    "records read", "rows committed", "last checkpoint", "malformed",
]  # fmt: skip


class _LazyWatch:
    """What a handle builds on first need and keeps: the watch it acquired itself (see
    `RunHandle.watcher`) and its view (`RunHandle.view`)."""

    def __init__(self) -> None:
        self.watch: WatchSet | None = None
        self.view: Any = None
        self.lock = threading.Lock()


@plain_text
@dataclass(frozen=True)
class RunHandle:
    """A submitted (or controlled) run: Flink job id, web UI link, consumer group, table.

    A handle from `run` or `replay` also watches the job's running versions in the
    background (``watch``), which gives ``caught_up`` / ``finished`` and their events.
    Any other handle (``--quiet``, ``watch=False``, `resume`) starts watching its run
    when first asked, through ``watcher``; the sampler is the run's shared one.

    The same handle comes from the API and from `%kappa run` / `replay`: shown in a
    notebook, a watching handle displays its live panel (``view``, built on first
    display and kept); ``stop()`` stops its run, as PyFlink's ``JobClient`` does.
    """

    run: RunRecord
    web_url: str
    message: str = ""
    watch: WatchSet | None = field(default=None, compare=False, repr=False)
    watcher: Callable[[], WatchSet] | None = field(default=None, compare=False, repr=False)
    """Starts watching this run (its shared sampler), for a handle asked without ``watch``."""
    stopper: Callable[[bool], RunHandle] | None = field(default=None, compare=False, repr=False)
    """Stops this run, with a savepoint or not (given by the API that made the handle)."""
    locator: Callable[[], ServiceStatus] | None = field(default=None, compare=False, repr=False)
    """Finds the TaskManager process that runs this run (given by the API, as ``stopper``)."""
    _lazy: _LazyWatch = field(default_factory=_LazyWatch, init=False, compare=False, repr=False)

    @property
    def _own(self) -> RunWatch | None:
        """This run's watch, as far as the handle has one (starts nothing)."""
        watches = self.watch if self.watch is not None and not self.watch.stopped else None
        watches = watches or self._lazy.watch
        return watches.of_run(self.run.id) if watches is not None else None

    @property
    def bounded(self) -> bool:
        return self.run.until is not None

    @property
    def caught_up(self) -> bool:
        """An unbounded run has caught up with the head (the rule in `kappanb.monitor.history`).

        Always False for a bounded replay: see ``finished``. Starts watching if need be."""
        own = self._watching()
        return own is not None and own.caught_up

    @property
    def finished(self) -> bool:
        """A bounded replay has read up to its end and Flink finished the job."""
        own = self._watching()
        return own is not None and own.finished

    def on_caught_up(self, callback: Callable[[RunHandle], None]) -> None:
        """Call ``callback(handle)`` once when the run catches up (at once if it has)."""
        self._require_watch().on_caught_up(lambda _w: callback(self))

    def on_finished(self, callback: Callable[[RunHandle], None]) -> None:
        """Call ``callback(handle)`` once when a bounded replay finishes (at once if it has)."""
        self._require_watch().on_finished(lambda _w: callback(self))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until caught up (or finished, when bounded); False if it did neither.

        Also returns when the run ends otherwise (stopped, failed): check ``run_state``. A
        run that has read everything but whose watermark a partition holds back is not
        caught up (windows its data closes have not fired): ``hold`` names the partition."""
        own = self._require_watch()
        return own.wait_for_log(timeout)

    def stop_watching(self) -> None:
        """Give back the handle's share in the samplers (the run goes on); the thread of a
        run ends when nothing else watches it. Asking again starts watching again."""
        with self._lazy.lock:
            lazy, self._lazy.watch = self._lazy.watch, None
        for watches in (self.watch, lazy):
            if watches is not None:
                watches.stop()

    def stop(self, savepoint: bool = False) -> RunHandle:
        """Stop this run, as `stop JOB vN` does (``savepoint``: one to `resume` from), and
        return the stopped run's handle. Refused when the run is not running any more."""
        if self.stopper is None:
            r = self.run
            raise RunNotFoundError(
                f"this handle of run #{r.id} cannot stop it: `stop {r.job} v{r.version}`"
            )
        return self.stopper(savepoint)

    def taskmanager(self) -> ServiceStatus:
        """The TaskManager process (name, pid, log) that runs this run's tasks now, as Flink
        says: the embedded stack's, or the local cluster's one it deployed them to. A
        cluster kappanb does not run has no process kappanb knows (`UnknownProcessError`)."""
        if self.locator is None:
            r = self.run
            raise RunNotFoundError(f"this handle of run #{r.id} cannot look up its TaskManager")
        return self.locator()

    def close(self) -> None:
        """Close the handle's panel (if it was shown) and stop watching; the run goes on."""
        with self._lazy.lock:
            view, self._lazy.view = self._lazy.view, None
        if view is not None:
            view.close()
        self.stop_watching()

    @property
    def view(self) -> Any:
        """The run's live panel (its summary over its job's watch panel, a widget), built
        on first access and kept; None for a handle that does not watch (``--quiet``)."""
        if self.watch is None:
            return None
        with self._lazy.lock:
            if self._lazy.view is None:
                from kappanb.widgets.watch_panel import RunPanel  # widgets only when shown

                self._lazy.view = RunPanel(self)
            return self._lazy.view

    def _ipython_display_(self) -> None:
        """Shown in a notebook: the live panel, which keeps its output up to date."""
        view = self.view
        if view is not None:
            view._ipython_display_()
            return
        from IPython.display import display

        bundle = {"text/plain": str(self), "text/html": self._repr_html_()}
        display(bundle, raw=True)  # type: ignore[no-untyped-call]

    @property
    def hold(self) -> str:
        """Why a run that has read everything is not caught up yet: the partition holding
        its watermark back while windows its data closes have not fired ("" when none)."""
        own = self._own
        held = own.hold if own is not None else None
        return "" if held is None else str(held)

    @property
    def late_dropped(self) -> int | None:
        """Records the run's windows dropped as late so far (Flink's count; None before a
        sample, or without window operators): each is missing from the output."""
        own = self._own
        latest = own.history.latest if own is not None else None
        return latest.late_dropped if latest is not None else None

    @property
    def run_state(self) -> RunState | Literal["UNKNOWN"]:
        """The state in the newest sample (or the registry's state when not watched)."""
        own = self._own
        latest = own.history.latest if own is not None else None
        return latest.state if latest is not None else self.run.state

    def _watching(self) -> RunWatch | None:
        """This run's watch, acquired through ``watcher`` when the handle has none."""
        own = self._own
        if own is not None or self.watcher is None:
            return own
        with self._lazy.lock:
            if self._lazy.watch is None:
                self._lazy.watch = self.watcher()
            return self._lazy.watch.of_run(self.run.id)

    def _require_watch(self) -> RunWatch:
        own = self._watching()
        if own is None:
            raise RunNotFoundError(
                f"run #{self.run.id} is not being watched: use `watch {self.run.job}` "
                "(or a handle from run/replay/resume)"
            )
        return own

    def __str__(self) -> str:
        r = self.run
        head = self.message or self.heading()
        savepoint = f"\n  savepoint {r.savepoint}" if r.savepoint and not r.active else ""
        return (
            f"{head}\n  Flink job {r.flink_job_id}  {self.web_url}\n"
            f"  group {r.group_id}\n  table {r.table}{savepoint}"
        )

    def heading(self) -> str:
        """``daily v2 replay run #2: RUNNING · catching up``: the run's state as its watch
        shows it now (the same words as the panel's table), else as the registry has it."""
        r = self.run
        own = self._own
        if own is None:
            return f"{r.job} v{r.version} {r.mode} run #{r.id}: {r.state}"
        from kappanb.monitor.progress import progress

        latest = own.history.latest
        held = own.hold
        shown = progress(
            latest.state if latest else None, bounded=self.bounded,
            caught_up=own.judged_caught_up,
            behind=latest.behind_total if latest else None, threshold=own.rule.threshold,
            held=str(held) if held else "",
        )  # fmt: skip
        said = [w for w in (shown.state, shown.where) if w != "-"]
        return f"{r.job} v{r.version} {r.mode} run #{r.id}: {' · '.join(said)}"

    def _repr_html_(self) -> str:
        r = self.run
        head = escape(self.message) if self.message else escape(self.heading())
        headers = ["Flink job", "consumer group", "output table", "from", "until"]
        row: list[object] = [link(self.web_url, r.flink_job_id), r.group_id, r.table, r.start_label,
                             r.until or "-"]  # fmt: skip
        if r.savepoint and not r.active:  # a stopped run: where it resumes from
            headers.append("savepoint")
            row.append(path(r.savepoint))
        return f"<b>{head}</b>" + html_table(headers, [row])


@dataclass(frozen=True)
class RunStatus:
    """One row of `status`. The record figures survive a restore: how they are found is
    in `kappanb.runs.run_metrics`."""

    run: RunRecord
    web_url: str
    records_in: int | None
    """"records read": source offsets the run has passed since its start (None: unknown)."""
    records_out: int | None
    """"rows committed": rows in the output table's current snapshot (None: unknown)."""
    last_checkpoint: str
    malformed: int | None = None
    """Distinct malformed events the run sent to its dead-letter topics (None: unknown)."""
    malformed_exact: bool = True
    """False when a dead-letter topic could not be read to its end in time: ``malformed``
    is then a lower bound, shown as "at least N"."""
    failing: str = ""
    """For an active run Flink has restarted: how often, and the last cause."""
    held: str = ""
    """For a run that has read everything: the partition holding its watermark below what
    its data closes (windows not fired yet), as `kappanb.monitor.holds` says it."""
    behind: ArchiveLag | None = None
    """For an active archive: records behind the head of the log, per partition."""
    late_dropped: int | None = None
    """Records an active run's windows dropped as late (`Sample.late_dropped`)."""

    @property
    def records_in_cell(self) -> object:
        """The figure, or "?" for an active run whose position is not known yet."""
        return "?" if self.records_in is None and self.run.active else self.records_in

    @property
    def malformed_text(self) -> str:
        """``"3 → payments.dlq"``; ``"-"`` for a run that fails fast instead."""
        topics = ", ".join(self.run.dead_letter_topics)
        if not topics:
            return "-"
        if self.malformed is None:
            return f"? → {topics}"
        count = f"{self.malformed:,}" if self.malformed_exact else f"at least {self.malformed:,}"
        return f"{count} → {topics}"


def _late(status: RunStatus) -> str:
    # Flink's count starts again at 0 when it restarts the job: say which part it covers.
    since = " since Flink last restarted it" if status.failing else ""
    return (f"its windows dropped {status.late_dropped:,} late records{since} (not in the "
            "output: docs/reliability.md, late events)")  # fmt: skip


@plain_text
@dataclass(frozen=True)
class StatusReport:
    """Every run the registry knows, reconciled with Flink."""

    rows: list[RunStatus]
    warnings: list[str] = field(default_factory=list)
    """What no row shows: records a sealed topic version got past its cut (`past_cut`)."""

    def _cells(self, html: bool) -> list[list[object]]:
        cells: list[list[object]] = []
        for s in self.rows:
            r = s.run
            job_cell: object = link(s.web_url, r.flink_job_id[:8]) if html else r.flink_job_id
            state: object = r.state
            trouble = s.failing or r.error
            if trouble and html:
                state = Raw(f'<span title="{escape(trouble, quote=True)}">{r.state} ⚠</span>')
            elif s.held:
                state = f"{r.state}, {s.held}" if html else f"{r.state} (held)"
            cells.append([
                r.job, f"v{r.version}", r.mode, state, job_cell, r.group_id, r.table, r.start_label,
                r.until or "-", s.records_in_cell, s.records_out, s.last_checkpoint,
                s.malformed_text,
            ])  # fmt: skip
        return cells

    def __str__(self) -> str:
        warned = "".join(f"\nwarning: {w}" for w in self.warnings)
        if not self.rows:
            return "no runs yet: start one with `run NAME`" + warned
        errors = [
            f"  #{s.run.id} {s.run.job} v{s.run.version}: {s.run.error}"
            for s in self.rows
            if s.run.error and s.run.state in ("FAILED", "LOST")
        ]
        errors += [
            f"  #{s.run.id} {s.run.job} v{s.run.version}: {s.failing}"
            for s in self.rows
            if s.failing
        ]
        errors += [
            f"  #{s.run.id} {s.run.job} v{s.run.version}: {s.held} (not caught up)"
            for s in self.rows
            if s.held
        ]
        errors += [f"  #{s.run.id} {s.run.job}: {s.behind}" for s in self.rows if s.behind]
        errors += [f"  #{s.run.id} {s.run.job} v{s.run.version}: {_late(s)}"
                   for s in self.rows if s.late_dropped]  # fmt: skip
        return (
            text_table(_HEADERS, self._cells(False))
            + ("\n" + "\n".join(errors) if errors else "")
            + warned
        )

    def _repr_html_(self) -> str:
        warned = "".join(f"<br><b>warning</b>: {escape(w)}" for w in self.warnings)
        if not self.rows:
            return "<i>no runs yet: start one with <code>%kappa run NAME</code></i>" + warned
        lags = [
            f"#{s.run.id} {escape(s.run.job)}: {escape(str(s.behind))}"
            for s in self.rows
            if s.behind
        ] + [
            f"#{s.run.id} {escape(s.run.job)} v{s.run.version}: {escape(_late(s))}"
            for s in self.rows
            if s.late_dropped
        ]
        return html_table(_HEADERS, self._cells(True)) + "<br>".join(lags) + warned


@plain_text
@dataclass(frozen=True)
class JobList:
    """Jobs and their versions, newest version last."""

    job_versions: list[JobVersion]
    runs: list[RunRecord]
    serving: dict[str, int] = field(default_factory=dict)
    """Per job, the version its serving alias points at."""

    def _rows(self) -> list[list[object]]:
        rows: list[list[object]] = []
        for v in self.job_versions:
            mine = [r for r in self.runs if r.job == v.job and r.version == v.version]
            states = ", ".join(f"{r.mode} {r.state}" for r in mine) or "-"
            output = f"updating ({', '.join(v.key)})" if v.updating else "append"
            label = v.label + (" (serving)" if self.serving.get(v.job) == v.version else "")
            rows.append([v.job, label, v.kind, output, v.created_at, v.note, states])
        return rows

    def __str__(self) -> str:
        if not self.job_versions:
            return "no jobs yet: define one with `job NAME` and a SELECT"
        return text_table(
            ["job", "version", "kind", "output", "created", "note", "runs"], self._rows()
        )

    def _repr_html_(self) -> str:
        if not self.job_versions:
            return "<i>no jobs yet: define one with <code>%%kappa job NAME</code></i>"
        return html_table(
            ["job", "version", "kind", "output", "created", "note", "runs"], self._rows()
        )
