"""Which TaskManager process runs a run: Flink's answer mapped by the stack (no I/O: a
Flink REST API that answers as the test says, and the fake stack)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kappanb.exceptions import RunNotFoundError
from kappanb.flink.rest import FlinkRest
from kappanb.registry.records import RunRecord
from kappanb.runs.placement import taskmanager_of
from kappanb.runs.report import RunHandle
from kappanb.stack.status import ServiceStatus
from tests.stack.fake_stack import FakeStack


class ScriptedRest(FlinkRest):
    """Answers ``job_taskmanagers`` with the given lists in turn (the last one repeats)."""

    def __init__(self, answers: list[list[str]], state: str = "RUNNING") -> None:
        super().__init__("http://nowhere:1")
        self.answers, self.state, self.asked = answers, state, 0

    def job_taskmanagers(self, job_id: str) -> list[str]:
        self.asked += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def job_state(self, job_id: str) -> str:
        return self.state


class NamingStack(FakeStack):
    """Remembers which resource id it was asked for."""

    asked: str = ""

    def taskmanager(self, resource_id: str) -> ServiceStatus:
        self.asked = resource_id
        return super().taskmanager(resource_id)


def _run() -> RunRecord:
    return RunRecord(7, "daily", 2, "replay", "daily__v2", "g", "earliest", "latest",
                     "f" * 32, "RUNNING", "2025-01-01T00:00:00Z")  # fmt: skip


def test_the_stack_names_the_process_once_flink_deployed_the_tasks(tmp_path: Path) -> None:
    stack = NamingStack(tmp_path, states={"flink-taskmanager": "running"})
    rest = ScriptedRest([[], [], ["kappanb-flink-taskmanager-2"]])
    found = taskmanager_of(stack, rest, _run(), timeout=10)
    assert (found.name, found.pid) == ("flink-taskmanager", 1)
    assert stack.asked == "kappanb-flink-taskmanager-2" and rest.asked == 3


def test_a_run_on_no_taskmanager_or_on_several_is_said(tmp_path: Path) -> None:
    stack = FakeStack(tmp_path, states={"flink-taskmanager": "running"})
    with pytest.raises(RunNotFoundError, match=r"run #7 .* runs on no TaskManager \(it is FAILED"):
        taskmanager_of(stack, ScriptedRest([[]], state="FAILED"), _run())
    with pytest.raises(RunNotFoundError, match=r"no TaskManager \(0 s passed"):
        taskmanager_of(stack, ScriptedRest([[]]), _run(), timeout=0)
    with pytest.raises(RunNotFoundError, match=r"runs on 2 TaskManagers \(a, b\), not one"):
        taskmanager_of(stack, ScriptedRest([["a", "b"]]), _run())


def test_a_handle_without_its_workbench_cannot_look_up_its_taskmanager() -> None:
    with pytest.raises(RunNotFoundError, match="cannot look up its TaskManager"):
        RunHandle(_run(), "http://nowhere").taskmanager()
