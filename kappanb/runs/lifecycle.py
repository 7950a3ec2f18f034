"""Runs across a stack's restarts: `down` suspends them, `up` brings them back.

- **down** stops every active run with a savepoint and marks it ``SUSPENDED`` (a run that
  cannot take one, say a job that is restarting, keeps its state: after the cluster is
  gone it reads as ``LOST`` and resumes from its latest retained checkpoint).
- **up** resumes, per job version, the newest run when it is ``SUSPENDED`` (from its
  savepoint) or ``LOST`` (the cluster lost it: a JobManager crash or a `down` that could
  not take a savepoint; from its latest retained checkpoint). A version with an active run
  or a newer ended run is left alone. A run that cannot be resumed is reported, not fatal:
  the rest of the stack still comes up. Runs are resumed only while the cluster has free
  task slots for them (slots-total minus what Flink's own running jobs take), the served
  versions' runs first, then live runs, then replays; the rest are left as they are and
  `up` says how to make room.

Exactly-once holds across both: the Kafka source restores its offsets from the snapshot
and the Iceberg committer commits what the snapshot had not yet committed, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kappanb.exceptions import KappaError
from kappanb.registry.kinds import RunState
from kappanb.registry.records import RunRecord
from kappanb.runs.archive import ArchiveControl, archived_topic, is_archive, lock_of
from kappanb.runs.control import RunControl
from kappanb.runs.slots import count_slots
from kappanb.versions import definitions

SUSPENDED: RunState = "SUSPENDED"
"""A run `down` stopped with a savepoint; `up` resumes it."""

RESUMABLE_AT_UP: frozenset[RunState] = frozenset({SUSPENDED, "LOST"})


@dataclass
class RunsCarried:
    """What `down` or `up` did to runs: one line per run."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [*self.done, *(f"could not {line}" for line in self.failed)]


def suspend_all(control: RunControl, say: Callable[[str], None]) -> RunsCarried:
    """Stop every active run with a savepoint and mark it SUSPENDED."""
    carried = RunsCarried()
    launcher = control.launcher
    for run in launcher.reconciled(None):
        if not run.active:
            continue
        what = f"{run.job} v{run.version} (run #{run.id}, {run.mode})"
        say(f"suspending {what} with a savepoint ...")
        try:
            doing = f"down (suspend {run.job} v{run.version})"
            with control.registry.job_lock(lock_of(run), doing):
                stopped = launcher.stop(run, savepoint=True)
        except KappaError as exc:
            carried.failed.append(
                f"suspend {what}: {exc}; `up` resumes it from its latest checkpoint"
            )
            continue
        if stopped.state == "STOPPED":
            control.registry.update_run(run.id, state=SUSPENDED)
            carried.done.append(f"suspended {what} with savepoint {stopped.savepoint}")
        else:
            carried.done.append(f"{what} ended by itself meanwhile ({stopped.state})")
    return carried


def to_resume(runs: list[RunRecord]) -> list[RunRecord]:
    """Per job version, its newest run when that run is SUSPENDED or LOST."""
    newest: dict[tuple[str, int], RunRecord] = {}
    for run in runs:
        key = (run.job, run.version)
        if key not in newest or run.id > newest[key].id:
            newest[key] = run
    return sorted((r for r in newest.values() if r.state in RESUMABLE_AT_UP), key=lambda r: r.id)


def resume_order(runs: list[RunRecord], served: set[tuple[str, int]]) -> list[RunRecord]:
    """Who gets a slot first: served versions, then live runs, then replays; oldest first."""
    return sorted(runs, key=lambda r: ((r.job, r.version) not in served, r.mode != "live", r.id))


def resume_one(control: RunControl, run: RunRecord) -> RunRecord:
    """Resume ``run``: a job version's last run, or a topic's archive (`kappanb.runs.archive`).
    A bounded replay is started again instead (`RunControl.resume`): a new run."""
    if not is_archive(run):
        return control.resume(run.job, run.version).run
    topic = definitions.find_topic(control.registry, archived_topic(run))
    return ArchiveControl(control).go_on(topic, run).run


def resume_all(control: RunControl, say: Callable[[str], None]) -> RunsCarried:
    """Resume what `down` suspended and what a crashed cluster lost, while slots last."""
    carried = RunsCarried()
    candidates = to_resume(control.launcher.reconciled(None))
    if not candidates:
        return carried
    free = count_slots(control.launcher.rest).free()
    served = {
        (job, s.to_version)
        for job in {r.job for r in candidates}
        if (s := control.registry.serving(job)) is not None
    }
    for run in resume_order(candidates, served):
        what = f"{run.job} v{run.version} (run #{run.id}, {run.mode})"
        if run.parallelism > free:
            carried.failed.append(
                f"resume {what}: it needs {run.parallelism} task slot(s) and "
                f"{max(free, 0)} are free; it stays {run.state}. Stop a run you do not need "
                f"(`stop JOB V`), then `resume {run.job} {run.version}`; or `down` and "
                "`up --slots N` with more slots"
            )
            continue
        say(f"resuming {what} ...")
        try:
            with control.registry.job_lock(lock_of(run), f"up (resume {run.job} v{run.version})"):
                resumed = resume_one(control, run)
        except KappaError as exc:
            carried.failed.append(f"resume {what}: {exc}")
            continue
        free -= run.parallelism
        if resumed.id != run.id:  # a bounded replay: read again from its start (FLINK-31006)
            carried.done.append(
                f"replayed {what} again from its start as run #{resumed.id}: resumed from "
                "its snapshot, a bounded replay would never finish"
            )
        else:
            carried.done.append(f"resumed {what} from {resumed.restored_from}")
    return carried
