"""Stopping a run that Flink ends by itself in the meantime (units; Flink's REST API scripted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kappanb.exceptions import FlinkRestError, SavepointError
from kappanb.flink.rest import FlinkRest
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.base import now
from kappanb.registry.records import RunRecord
from kappanb.registry.store import LocalRegistry
from kappanb.runs.runs import RunLauncher
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.catalog import CatalogLocation


class ScriptedRest(FlinkRest):
    """Cancel fails with ``refusal``; each look at the job gives the next of ``states`` (the
    last one stays), as Flink's cached job details lag behind the job."""

    def __init__(self, states: list[str], refusal: str) -> None:
        super().__init__("http://127.0.0.1:1")  # never asked: every call used is scripted
        self.states = states
        self.refusal = refusal

    def cancel(self, job_id: str) -> None:
        raise FlinkRestError(f"Flink REST PATCH /jobs/{job_id}?mode=cancel answered {self.refusal}")

    def _look(self) -> str:
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def job_state(self, job_id: str) -> str:
        return self._look()

    def find_job(self, job_id: str) -> dict[str, Any]:
        return {"jid": job_id, "state": self._look()}

    def root_exception(self, job_id: str) -> str:
        return "boom"


ENDED = (
    "409: Job cancellation failed because the job has already reached another terminal "
    "state (FINISHED)."
)


def launcher_with(
    tmp_path: Path, *states: str, refusal: str = ENDED
) -> tuple[RunLauncher, RunRecord]:
    registry = LocalRegistry(tmp_path / "registry.sqlite")
    endpoints = Endpoints(
        KafkaConnection.plain("127.0.0.1:1"), "http://127.0.0.1:1",
        CatalogLocation("kappanb", tmp_path / "catalog.db", tmp_path / "warehouse"),
        tmp_path / "lib",
    )  # fmt: skip
    launcher = RunLauncher(endpoints, registry, tmp_path / "chk", tmp_path / "sp", "10 s")
    launcher.rest = ScriptedRest(list(states), refusal)
    run = registry.add_run(RunRecord(
        id=0, job="j", version=1, mode="replay", table="j__v1", group_id="g", start="earliest",
        until="latest", flink_job_id="a" * 32, state="RUNNING", started_at=now(),
    ))  # fmt: skip
    return launcher, run


def test_a_run_that_finished_before_the_cancel_is_recorded_as_finished(tmp_path: Path) -> None:
    launcher, run = launcher_with(tmp_path, "FINISHED")
    stopped = launcher.stop(run, savepoint=False)
    assert stopped.state == "FINISHED" and stopped.ended_at
    assert launcher.registry.runs("j")[0].state == "FINISHED"


def test_a_cancel_that_fails_while_the_job_still_runs_is_an_error(tmp_path: Path) -> None:
    launcher, run = launcher_with(tmp_path, "RUNNING", refusal="500: the job is busy")
    with pytest.raises(SavepointError, match="could not stop run #1"):
        launcher.stop(run, savepoint=False)
    assert launcher.registry.runs("j")[0].state == "RUNNING"


def test_a_finished_job_that_flink_still_lists_as_running_is_waited_for(tmp_path: Path) -> None:
    """Flink refused the cancel because the job had finished, while its cached job details
    still said RUNNING (a CI run's failure): the stop waits for them, not raising."""
    launcher, run = launcher_with(tmp_path, "RUNNING", "RUNNING", "FINISHED")
    stopped = launcher.stop(run, savepoint=False)
    assert stopped.state == "FINISHED"
    assert launcher.registry.runs("j")[0].state == "FINISHED"
