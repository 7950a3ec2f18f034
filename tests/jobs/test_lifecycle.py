"""Which runs `up` resumes: per job version, the newest run, when suspended or lost."""

from __future__ import annotations

from kappanb.jobs.lifecycle import to_resume
from kappanb.registry.records import RunRecord


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
