"""Which runs `up` resumes: per job version, the newest run, when suspended or lost."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from types import SimpleNamespace

from kappanb.registry.records import RunRecord
from kappanb.runs.lifecycle import resume_all, resume_order, to_resume
from kappanb.runs.slots import slots_in_use


def run(id_: int, job: str, version: int, state: str) -> RunRecord:
    return RunRecord(
        id=id_, job=job, version=version, mode="live", table=f"{job}__v{version}",
        group_id="g", start="earliest", until=None, flink_job_id=f"f{id_}", state=state,
        started_at="2026-11-21T00:00:00",
    )  # fmt: skip


def test_the_newest_run_of_each_version_is_resumed_when_suspended_or_lost() -> None:
    runs = [
        run(1, "a", 1, "LOST"),  # superseded by run 3: left alone
        run(2, "a", 2, "SUSPENDED"),
        run(3, "a", 1, "RUNNING"),
        run(4, "b", 1, "LOST"),
        run(5, "c", 1, "STOPPED"),  # stopped by the user: stays stopped
        run(6, "c", 2, "FINISHED"),
        run(7, "d", 1, "FAILED"),
    ]
    assert [r.id for r in to_resume(runs)] == [2, 4]


def test_a_lost_run_followed_by_a_finished_one_is_not_resumed() -> None:
    assert to_resume([run(1, "a", 1, "LOST"), run(2, "a", 1, "FINISHED")]) == []


class JobsRest:
    """Flink's job list and job details, as answered by a cluster with ``slots`` slots."""

    def __init__(self, slots: int, jobs: dict[str, tuple[str, list[int]]]) -> None:
        self.slots = slots
        self._jobs = jobs  # id -> (state, vertex parallelisms)

    def overview(self) -> dict[str, int]:
        return {"slots-total": self.slots}

    def jobs(self) -> list[dict[str, str]]:
        return [{"jid": jid, "state": state} for jid, (state, _) in self._jobs.items()]

    def job(self, jid: str) -> dict[str, list[dict[str, int]]]:
        return {"vertices": [{"parallelism": p} for p in self._jobs[jid][1]]}


def test_slots_in_use_counts_each_active_jobs_widest_vertex() -> None:
    rest = JobsRest(
        4, {"a": ("RUNNING", [1, 2, 2]), "b": ("FINISHED", [4]), "c": ("RESTARTING", [1])}
    )
    assert slots_in_use(rest) == 3  # type: ignore[arg-type]


def test_served_versions_come_first_then_live_runs_then_replays() -> None:
    replay = replace(run(1, "a", 2, "LOST"), mode="replay")
    live_a = run(2, "a", 1, "LOST")
    live_b = run(3, "b", 1, "SUSPENDED")
    served_b2 = replace(run(4, "b", 2, "SUSPENDED"), mode="replay")
    order = resume_order([replay, live_a, live_b, served_b2], served={("b", 2)})
    assert [r.id for r in order] == [4, 2, 3, 1]


class Resuming:
    """The parts of RunControl `resume_all` uses; `resume` records what it was asked."""

    def __init__(self, runs: list[RunRecord], rest: JobsRest) -> None:
        self.resumed: list[tuple[str, int]] = []
        self.runs = runs
        self.launcher = SimpleNamespace(reconciled=lambda _job: runs, rest=rest)
        self.registry = SimpleNamespace(
            serving=lambda _job: None, job_lock=lambda _job, _why: nullcontext()
        )

    def resume(self, job: str, version: int) -> SimpleNamespace:
        self.resumed.append((job, version))
        last = [r for r in self.runs if (r.job, r.version) == (job, version)][-1]
        if last.until is not None:  # a bounded replay is started again: a new run
            return SimpleNamespace(run=replace(last, id=last.id + 100, restored_from=None))
        return SimpleNamespace(run=replace(last, restored_from="chk-1"))


def test_up_resumes_only_what_the_free_slots_hold_and_says_how_to_make_room() -> None:
    runs = [
        run(1, "a", 1, "LOST"),
        replace(run(2, "b", 1, "SUSPENDED"), parallelism=2),
        run(3, "c", 1, "LOST"),
    ]
    control = Resuming(runs, JobsRest(4, {"other": ("RUNNING", [2])}))  # 2 of 4 slots free
    carried = resume_all(control, lambda _msg: None)  # type: ignore[arg-type]
    # a takes one slot; b needs two with one left and waits; c fits in the last one.
    assert control.resumed == [("a", 1), ("c", 1)]
    assert len(carried.done) == 2
    assert any("b v1" in f and "needs 2 task slot(s) and 1 are free" in f for f in carried.failed)


def test_up_says_a_bounded_replay_was_replayed_again_not_resumed() -> None:
    runs = [run(1, "a", 1, "LOST"), replace(run(2, "b", 1, "SUSPENDED"), until="latest")]
    control = Resuming(runs, JobsRest(4, {}))
    carried = resume_all(control, lambda _msg: None)  # type: ignore[arg-type]
    assert control.resumed == [("a", 1), ("b", 1)]
    assert carried.done[0].startswith("resumed a v1 (run #1") and "from chk-1" in carried.done[0]
    assert (
        "b v1 (run #2" in carried.done[1]
        and "again from its start as run #102" in (carried.done[1])
    )
