"""The serving alias of a job: which version readers get, switched in one step.

The alias is the newest row of the registry's ``switches`` table for the job, written in
one SQLite transaction that also publishes it in the Iceberg catalog (the view
``default.JOB`` and the namespace property ``kappanb.serving.JOB``,
`kappanb.tables.serving_view`), so a reader resolves it once and then reads one
table's snapshot: one version or the other, never a mix.

- The first live run of a job becomes its serving version.
- ``promote`` refuses while the new version has not caught up (or, for a bounded replay,
  not finished) unless forced; ``rollback`` switches back to the version the current
  one replaced (twice in a row returns to where it was); both are recorded.
- ``retire`` stops a version's job with a savepoint and keeps its table as a rollback
  target; with ``drop`` it removes the table too; with ``remove_after`` it schedules the
  table's removal once that grace period has passed (`serving.removal` sweeps); both
  refused for the served version and the rollback target. None touches the served version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from kappanb.core.durations import duration
from kappanb.display.html import Raw, html_table, path, text_table
from kappanb.display.plain import plain_text
from kappanb.exceptions import NotCaughtUpError, PromoteError
from kappanb.registry import removals
from kappanb.registry.base import Registry, time_text
from kappanb.registry.kinds import SwitchKind
from kappanb.registry.records import JobVersion, Removal, RunRecord, Switch
from kappanb.runs.control import RunControl
from kappanb.serving.removal import removal_html, removal_text
from kappanb.tables.catalog import drop_table, table_exists
from kappanb.tables.serving_view import publish_serving
from kappanb.versions import definitions

_HEADERS = ["when", "from", "to", "table", "how", "reason"]


@plain_text
@dataclass(frozen=True)
class SwitchHistory:
    """Every switch of a job's serving alias, oldest first."""

    job: str
    switches: list[Switch]
    removals: list[Removal] = field(default_factory=list)
    """Its retired tables scheduled for removal: when, due when, removed or called off."""

    def _rows(self) -> list[list[object]]:
        return [
            [s.at, f"v{s.from_version}" if s.from_version else "-", f"v{s.to_version}", s.table,
             s.kind + (" (forced)" if s.forced else ""), s.reason]
            for s in self.switches
        ]  # fmt: skip

    def __str__(self) -> str:
        if not self.switches:
            said = f"{self.job} has no serving version yet: its first live run sets it"
        else:
            said = text_table(_HEADERS, self._rows())
        if self.removals:
            said += "\n\nremovals of retired tables\n" + removal_text(self.removals)
        return said

    def _repr_html_(self) -> str:
        if not self.switches:
            said = (
                f"<i>{escape(self.job)} has no serving version yet: its first live run sets it</i>"
            )
        else:
            said = f"<b>{self.job}</b> serving history" + html_table(_HEADERS, self._rows())
        if self.removals:
            said += "<br><b>removals of retired tables</b>" + removal_html(self.removals)
        return said


@plain_text
@dataclass(frozen=True)
class Switched:
    """The outcome of promote or rollback."""

    switch: Switch

    def __str__(self) -> str:
        s = self.switch
        before = f"v{s.from_version}" if s.from_version else "nothing"
        forced = " (forced)" if s.forced else ""
        reason = f"; reason: {s.reason}" if s.reason else ""
        return (
            f"{s.job} now serves v{s.to_version} ({s.table}), was {before}: {s.kind}{forced}"
            + reason
        )

    def _repr_html_(self) -> str:
        s = self.switch
        rows = [[f"v{s.from_version}" if s.from_version else "-", f"v{s.to_version}", s.table,
                 s.kind + (" (forced)" if s.forced else ""), s.reason or "-"]]  # fmt: skip
        return f"<b>{escape(s.job)} now serves v{s.to_version}</b>" + html_table(
            ["from", "to", "table", "how", "reason"], rows
        )


@plain_text
@dataclass(frozen=True)
class Retired:
    """What `retire` did: the runs it stopped (with their savepoints), the tables it kept
    or dropped. ``str`` is the one line the CLI prints; a notebook shows a table."""

    job: str
    version: int
    stopped: list[tuple[int, str]] = field(default_factory=list)
    """(run id, savepoint) of each run it stopped."""
    tables: list[str] = field(default_factory=list)
    dropped: bool = False
    removals: list[Removal] = field(default_factory=list)
    """The removals of its tables it scheduled (``remove_after``)."""

    @property
    def _until(self) -> str:
        """When a scheduled removal may take its tables ('' when none was scheduled)."""
        if not self.removals:
            return ""
        due = time_text(self.removals[0].due_ms)
        return f"until {due}, then `sweep` removes it (unless served or rollback target then)"

    def __str__(self) -> str:
        said = [f"stopped run #{run} with savepoint {where}" for run, where in self.stopped]
        tables = ", ".join(self.tables)
        kept = f"kept {tables} " + (self._until or "(a rollback target)")
        said.append(f"dropped {tables}" if self.dropped else kept)
        return f"retired {self.job} v{self.version}: " + "; ".join(said)

    def _repr_html_(self) -> str:
        rows: list[list[object]] = [
            [f"stopped run #{run}", Raw("savepoint " + path(where))] for run, where in self.stopped
        ]
        kept = "dropped" if self.dropped else "kept " + (self._until or "(a rollback target)")
        rows += [[kept, Raw(f"<code>{escape(t)}</code>")] for t in self.tables]
        return f"<b>retired {escape(self.job)} v{self.version}</b>" + html_table(
            ["done", "where"], rows
        )


def check_promote(registry: Registry, job: str, version: int) -> Switch | None:
    """The serving switch in force, unless promoting ``version`` makes no sense (no stack)."""
    job_version = definitions.find_version(registry, job, version)
    current = registry.serving(job)
    if current is not None and current.to_version == job_version.version:
        raise PromoteError(f"{job} already serves {job_version.label}: nothing to switch")
    return current


def check_rollback(registry: Registry, job: str) -> Switch:
    """The serving switch a rollback would undo, or why there is none (no stack)."""
    definitions.find_version(registry, job, None)
    current = registry.serving(job)
    if current is None:
        raise PromoteError(
            f"{job} has no serving version yet: nothing to roll back (its first live run, "
            f"`run {job}`, sets one)"
        )
    if current.from_version is None:
        raise PromoteError(
            f"{job} has served v{current.to_version} from the start: nothing to roll back to; "
            f"`promote {job} vN` switches to another version"
        )
    return current


def check_retire(
    registry: Registry, job: str, version: int, *, remove: bool = False, drop: bool = False
) -> JobVersion:
    """The version to retire, unless it is the one readers get, or, to ``drop`` its table
    now or ``remove`` it later, the rollback target (no stack)."""
    job_version = definitions.find_version(registry, job, version)
    current = registry.serving(job)
    if current is not None and current.to_version == job_version.version:
        raise PromoteError(
            f"{job} {job_version.label} is what readers get: promote another version first"
        )
    if (remove or drop) and (reason := removals.protection(current, job, job_version.version)):
        how = "--drop" if drop else "--remove-after ..."
        raise removals.refusal(reason, job, job_version.version, how=how)
    return job_version


class Serving:
    """Promote, roll back and retire versions of the jobs of one home."""

    def __init__(self, control: RunControl, *, settle_seconds: float | None = None) -> None:
        self.control, self.registry = control, control.registry
        self.catalog = control.endpoints.catalog
        # Long enough to see the next checkpoint commit the output (see CaughtUp).
        interval = control.launcher.checkpoint_interval_ms / 1000
        self.settle_seconds = interval + 5.0 if settle_seconds is None else settle_seconds

    def promote(
        self, job: str, version: int, current: Switch | None, *, force: bool = False,
        reason: str = "",
    ) -> Switch:  # fmt: skip
        """Switch to ``version``; ``current`` is what `check_promote` found in force."""
        run = self._latest_run(job, version)
        if not force:
            self._check_ready(run)
        return self._switch(job, run, "promote", current, reason, force)

    def rollback(self, job: str, current: Switch, *, reason: str = "") -> Switch:
        """Undo ``current``, the switch `check_rollback` found in force."""
        assert current.from_version is not None  # checked
        run = self._latest_run(job, current.from_version)
        return self._switch(job, run, "rollback", current, reason, False)

    def serve_first_live_run(self, run: RunRecord) -> None:
        """A job's first live run is what its readers get, until a promote."""
        if self.registry.serving(run.job) is not None:
            return
        try:
            self._switch(run.job, run, "first live run", None, "", False)
        except PromoteError:
            return  # another notebook set it meanwhile: theirs stands

    def retire(
        self, job_version: JobVersion, *, drop: bool = False, remove_after_ms: int | None = None
    ) -> Retired:
        """Retire the version `check_retire` allowed; with ``remove_after_ms``, schedule the
        removal of its tables that exist."""
        job = job_version.job
        runs = self.control.launcher.reconciled(job, job_version.version)
        if not runs:
            raise PromoteError(f"{job} {job_version.label} has never run: nothing to retire")
        stopped = []
        for run in [r for r in runs if r.active]:
            ended = self.control.launcher.stop(run, savepoint=True)
            stopped.append((run.id, ended.savepoint or "-"))
        tables = sorted({r.table for r in runs})
        if drop:
            for table in tables:
                drop_table(self.catalog, table)
        scheduled = []
        if remove_after_ms is not None:
            tables = [t for t in tables if table_exists(self.catalog, t)]
            version, after = job_version.version, remove_after_ms
            scheduled = [self.registry.schedule_removal(job, version, t, after) for t in tables]
        return Retired(job, job_version.version, stopped, tables, drop, scheduled)

    # ---- helpers ---------------------------------------------------------------------
    def _latest_run(self, job: str, version: int) -> RunRecord:
        runs = self.control.launcher.reconciled(job, version)
        if not runs:
            raise PromoteError(
                f"{job} v{version} has never run, so it has no output: "
                f"`replay {job} v{version}` first"
            )
        run = runs[-1]
        if not table_exists(self.catalog, run.table):
            raise PromoteError(f"{job} v{version}'s table {run.table} was dropped (retire --drop)")
        return run

    def _check_ready(self, run: RunRecord) -> None:
        """Refuse unless the run finished (bounded) or has caught up (unbounded)."""
        label = f"{run.job} v{run.version}"
        if run.state == "FINISHED":
            return
        if not run.active:
            raise NotCaughtUpError(
                f"{label}'s run #{run.id} is {run.state}, so its output may be incomplete: "
                "`resume` it and let it catch up, or promote with --force"
            )
        if run.until is not None:
            raise NotCaughtUpError(
                f"{label} is a bounded replay that has not finished yet: wait for it "
                f"(`watch {run.job}`), or promote with --force"
            )
        # a watch of its own: a shared one that caught up earlier may have fallen behind since
        watch = self.control.watch_set(run.job, interval=0.3, also=run.id, shared=False)
        try:
            own = watch.of_run(run.id)
            settled = own is not None and own.wait(self.settle_seconds) and own.caught_up
        finally:
            watch.stop()
        if settled:
            return
        latest = own.history.latest if own is not None else None
        eta = own.history.eta_seconds() if own is not None else None
        where = (
            f"{latest.behind_total:,} records behind the head"
            + ("" if eta is None else f", about {duration(int(eta * 1000))} to go")
            if latest is not None
            else "no figures yet"
        )
        raise NotCaughtUpError(
            f"{label} has not caught up ({where}): wait until it has (`watch {run.job}`), "
            "or promote with --force"
        )

    def _switch(
        self, job: str, run: RunRecord, kind: SwitchKind, current: Switch | None, reason: str,
        forced: bool,
    ) -> Switch:  # fmt: skip
        def publish() -> None:  # the catalog's view and property, inside the switch
            publish_serving(self.catalog, job, run.table)

        return self.registry.switch(
            job, run.version, run.table, kind=kind,
            expect_from=current.to_version if current else None, reason=reason, forced=forced,
            also=publish,
        )  # fmt: skip
