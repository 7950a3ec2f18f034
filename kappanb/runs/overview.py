"""What the Kappa panel shows: the stack's services, each job's versions with their newest
run (state, records behind the head, caught up or finished), and the served version.

Plain data with `to_dict` (JSON for the Jupyter server endpoint), assembled in one pass:
the registry, Flink's REST API (runs reconciled as `status` does) and the log's heads for
each active run (and, as `status` warns, for each sealed topic version: records past its
cut), with no background threads. It never starts the stack: when the stack
is down the runs are shown as the registry has them, and a problem line says how to start
it. Whatever fails on the way (Flink, Kafka) becomes a line in ``problems``.

A run's ``caught_up`` follows the rule `watch` and `promote` apply, kept between polls by
`PolledCatchUp`; a bounded replay is never caught up but ``finished``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from kappanb.history.past_cut import followers_in_scope, records_past_cut
from kappanb.monitor.polled import PolledCatchUp
from kappanb.monitor.progress import progress
from kappanb.monitor.sample import sample_run
from kappanb.monitor.verdicts import CaughtUpVerdicts
from kappanb.registry.base import Registry
from kappanb.registry.kinds import RunMode, RunState
from kappanb.registry.records import ACTIVE_STATES, JobVersion, RunRecord, TopicSpec
from kappanb.runs.chain_reads import older_sides
from kappanb.runs.runs import RunLauncher
from kappanb.stack.base import Stack
from kappanb.stack.endpoints import Endpoints
from kappanb.stack.status import StackStatus

STACK_DOWN = (
    "the stack is not running: start it with the panel's start button, `%kappa up` in a "
    "notebook or `kappanb up` in a shell"
)


@dataclass(frozen=True)
class RunView:
    """The newest run of a version, as the panel shows it."""

    id: int
    state: RunState
    mode: RunMode
    bounded: bool
    behind: int | None
    """Records between the run's position and the head of the log (None: not known)."""
    caught_up: bool
    finished: bool
    flink_url: str | None
    error: str
    table: str
    held: str = ""
    """The partition holding the watermark of a run that has read everything ("" if none)."""
    shown: str = ""
    """The state as every view shows it (`kappanb.monitor.progress.shown_state`)."""
    progress: str = ""
    """Where it is, in the words the watch panel uses ("" for a run not sampled)."""
    late_dropped: int = 0
    """Records its windows dropped as late (`Sample.late_dropped`; 0 when none or not
    sampled): its output is short of what the data holds, whatever ``progress`` says."""


@dataclass(frozen=True)
class VersionView:
    version: int
    note: str
    run: RunView | None
    actions: list[VersionAction] = field(default_factory=list)
    """What the server accepts for this version now: "promote" (ready), "promote-force"
    (only with force: not caught up, not finished or not running), "stop"."""


@dataclass(frozen=True)
class JobView:
    name: str
    serving: int | None
    versions: list[VersionView]
    actions: list[JobAction] = field(default_factory=list)
    """"watch" while a version runs, "rollback" when a switch can be undone; none while
    the stack (Flink) is down, where the server refuses them."""


VersionAction = Literal["promote", "promote-force", "stop"]
JobAction = Literal["watch", "rollback"]


@dataclass(frozen=True)
class Overview:
    """The stack, the jobs, what could not be found out (``problems``) and what the data
    itself calls for (``warnings``: records a sealed topic version got past its cut)."""

    home: str
    stack: StackStatus
    flink_ui: str | None
    jobs: list[JobView]
    problems: list[str]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        services = [{**asdict(s), "healthy": s.healthy} for s in self.stack.services]
        return {
            "home": self.home,
            "stack": {
                "healthy": self.stack.healthy and bool(services),
                "running": self.stack.running,
                "services": services,
            },
            "flink_ui": self.flink_ui,
            "jobs": [asdict(j) for j in self.jobs],
            "problems": list(self.problems),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class _Figures:
    behind: int | None
    caught_up: bool
    held: str = ""
    late_dropped: int = 0


def stack_problems(status: StackStatus) -> list[str]:
    """What is wrong with the stack, as lines that say what to do (none when healthy)."""
    if not status.running:
        return [STACK_DOWN]
    sick = [f"{s.name} {s.state}" for s in status.services if not s.healthy]
    if not sick:
        return []
    return [
        f"the stack is not healthy ({', '.join(sick)}): `kappanb logs SERVICE` says why; "
        "stop it and start it again (`kappanb down`, then `kappanb up`)"
    ]


def build_overview(
    registry: Registry, stack: Stack, launcher: Callable[[Endpoints], RunLauncher],
    polled: PolledCatchUp, verdicts: CaughtUpVerdicts | None = None,
) -> Overview:  # fmt: skip
    """The panel's picture of one home; Flink and Kafka are asked only when Flink is up."""
    home = str(stack.places.home)
    try:
        status = stack.status()
        problems = stack_problems(status)
    except Exception as exc:  # e.g. an unreadable state file: still show the registry
        status, problems = StackStatus(home, []), [f"could not check the stack: {exc}"]
    flink_up = status.flink_healthy
    # Figures need Kafka too: a consumer made while the broker is down (a `down` under
    # way stops it last) only retries and fills the server's log with connection errors.
    kafka_up = any(s.name == "kafka" and s.healthy for s in status.services)
    runs, figures, endpoints = registry.runs(), dict[int, _Figures](), None
    warnings: list[str] = []
    if flink_up:
        endpoints = stack.endpoints()
        try:
            control = launcher(endpoints)
            # An archive is no job's version: the panel lists jobs (`status` shows archives).
            runs = [r for r in control.reconciled(None) if r.mode != "archive"]
            if kafka_up:
                figures = _sample_active(
                    registry, _newest(runs), control, endpoints, polled, problems, verdicts
                )  # fmt: skip
                warnings, failed = _past_cut(registry, endpoints)
                problems.extend(failed)
        except Exception as exc:
            problems.append(f"could not read the runs' state from Flink: {exc}")
    jobs = _jobs(registry, _newest(runs), figures, endpoints, actions=flink_up)
    flink_ui = endpoints.flink_rest_url if endpoints else None
    return Overview(home, status, flink_ui, jobs, problems, warnings)


def _past_cut(registry: Registry, endpoints: Endpoints) -> tuple[list[str], list[str]]:
    """A warning for each sealed topic version with records past its cut (as `status`),
    and the problem when Kafka could not say."""
    sealing = followers_in_scope(registry.topics(), registry.versions(), None)
    try:
        return [f"warning: {p}" for p in records_past_cut(endpoints.kafka, sealing)], []
    except Exception as exc:
        why = endpoints.redact(str(exc))
        return [], [f"could not check the sealed topics' cuts in Kafka: {why}"]


def _newest(runs: list[RunRecord]) -> dict[tuple[str, int], RunRecord]:
    """Per (job, version): its newest active run, else its newest run."""
    chosen: dict[tuple[str, int], RunRecord] = {}
    for run in runs:  # oldest first
        key = (run.job, run.version)
        if key not in chosen or run.active or not chosen[key].active:
            chosen[key] = run
    return chosen


def _sample_active(
    registry: Registry, shown: dict[tuple[str, int], RunRecord], control: RunLauncher,
    endpoints: Endpoints, polled: PolledCatchUp, problems: list[str],
    verdicts: CaughtUpVerdicts | None = None,
) -> dict[int, _Figures]:  # fmt: skip
    """Records behind and the caught-up rule for each active run shown (live runs first:
    a replay's watermark is compared with its live run's, as `watch` does)."""
    topics = {t.name: t for t in registry.topics()}
    job_versions = {(v.job, v.version): v for v in registry.versions()}
    active = sorted((r for r in shown.values() if r.active and r.flink_job_id),
                    key=lambda r: r.mode != "live")  # fmt: skip
    polled.forget_all_but({(r.id, r.flink_job_id) for r in active})
    live_watermark: dict[str, int | None] = {}
    figures: dict[int, _Figures] = {}
    older = older_sides(registry, active)  # a followed topic's older version, to its cut
    for run in active:
        sources = _sources(job_versions.get((run.job, run.version)), topics)
        cut = older.get(run.id, [])
        names = list(dict.fromkeys([*(b.topic for b in cut), *(t.name for t in sources)]))
        try:
            sample = sample_run(control.rest, endpoints.kafka, run.flink_job_id,
                                run.group_id, names,
                                {t.name: t.event_time for t in sources
                                 if t.event_time and not t.compact}, cut)  # fmt: skip
        except Exception as exc:
            problems.append(f"{run.job} v{run.version} {run.mode} run #{run.id}: no figures "
                            f"from Flink or Kafka ({endpoints.redact(str(exc))})")  # fmt: skip
            continue
        key, bounded = (run.id, run.flink_job_id), run.until is not None
        sample = polled.counted(key, sample)  # late drops across Flink's restarts
        if run.mode == "live":
            live_watermark.setdefault(run.job, sample.watermark_ms)
        caught_up = not bounded and polled.update(
            key, sample, watermark_delay_ms=max((t.watermark_ms for t in sources), default=0),
            live_watermark_ms=None if run.mode == "live" else live_watermark.get(run.job),
            delays={t.name: t.watermark_ms for t in sources},
        )  # fmt: skip
        # A notebook's watch that judged it caught up decides, while the run stays close.
        shared = verdicts is not None and verdicts.said(*key)
        caught_up = caught_up or (
            shared and not bounded and sample.state == "RUNNING"
            and sample.behind_total <= polled.threshold
        )  # fmt: skip
        held = None if bounded else polled.held_by(key)
        figures[run.id] = _Figures(sample.behind_total, caught_up, str(held) if held else "",
                                   sample.late_dropped or 0)  # fmt: skip
    return figures


def _sources(job_version: JobVersion | None, topics: dict[str, TopicSpec]) -> list[TopicSpec]:
    return [topics[name] for name in (job_version.sources if job_version else ()) if name in topics]


def _jobs(
    registry: Registry, shown: dict[tuple[str, int], RunRecord], figures: dict[int, _Figures],
    endpoints: Endpoints | None, actions: bool = True,
) -> list[JobView]:  # fmt: skip
    """``actions``: Flink is up, so the server would carry them out."""
    by_job: dict[str, list[VersionView]] = {}
    served = {v.job: registry.serving(v.job) for v in registry.versions()}
    for v in registry.versions():  # by job, then version
        run = shown.get((v.job, v.version))
        switch = served[v.job]
        view = None if run is None else _run_view(
            run, figures.get(run.id), endpoints, switch.to_version if switch else None
        )  # fmt: skip
        by_job.setdefault(v.job, []).append(VersionView(v.version, v.note, view))
    jobs = []
    for name, versions in by_job.items():
        current = served[name]
        serving = current.to_version if current else None
        if actions:
            versions = [replace(v, actions=_version_actions(v, serving)) for v in versions]
        job_actions: list[JobAction] = []
        if actions and any(v.run is not None and v.run.state in ACTIVE_STATES for v in versions):
            job_actions.append("watch")
        if actions and current is not None and current.from_version is not None:
            job_actions.append("rollback")
        jobs.append(JobView(name, serving, versions, job_actions))
    return jobs


def _version_actions(view: VersionView, serving: int | None) -> list[VersionAction]:
    """What `promote` and `stop` would accept now (`kappanb.serving.serving._check_ready`):
    a finished or caught-up run is promoted as it is; any other needs ``force``."""
    run = view.run
    if run is None:
        return []  # never ran: no table to serve, nothing to stop
    found: list[VersionAction] = []
    if view.version != serving:
        ready = run.finished or (run.state in ACTIVE_STATES and run.caught_up)
        found.append("promote" if ready else "promote-force")
    if run.state in ACTIVE_STATES:
        found.append("stop")
    return found


def _run_view(
    run: RunRecord, figures: _Figures | None, endpoints: Endpoints | None,
    serving: int | None = None,
) -> RunView:  # fmt: skip
    """``flink_url`` only while Flink runs (a restarted cluster no longer knows old jobs).
    An unbounded replay of the served version shows as the live run it now is."""
    url = endpoints.job_url(run.flink_job_id) if endpoints and run.flink_job_id else None
    bounded = run.until is not None
    said = progress(
        run.state, bounded=bounded, caught_up=figures.caught_up if figures else False,
        behind=figures.behind if figures else None, held=figures.held if figures else "",
    )  # fmt: skip
    return RunView(
        id=run.id, state=run.state, bounded=bounded,
        mode="live" if not bounded and run.version == serving else run.mode,
        behind=figures.behind if figures else None,
        caught_up=figures.caught_up if figures else False,
        finished=run.state == "FINISHED", flink_url=url, error=run.error or "", table=run.table,
        held=figures.held if figures else "", shown=said.state,
        progress="" if said.where == "-" or (run.active and figures is None) else said.where,
        late_dropped=figures.late_dropped if figures else 0,
    )  # fmt: skip
