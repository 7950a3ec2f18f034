"""The API on a stack it is given: a fake with no I/O shows the logic without Java.

`Workbench` reaches its stack only through `kappanb.stack.base.Stack`; the health check
runs at most once per command, and a command's checks come before the stack is asked.
"""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

import pytest

from kappanb.commands.context import Context
from kappanb.commands.handlers import COMMANDS
from kappanb.commands.results import FullStatus
from kappanb.exceptions import (
    CompareError,
    PromoteError,
    RunNotFoundError,
    StackNotRunningError,
    UnknownJobError,
    UnknownVersionError,
)
from kappanb.registry.base import Registry
from kappanb.registry.records import JobVersion
from kappanb.registry.store import LocalRegistry
from kappanb.settings import StackSettings
from kappanb.versions import definitions
from kappanb.workbench import Workbench
from tests.stack.fake_stack import FakeStack


def _bench(tmp_path: Path, *, auto_up: bool = False) -> tuple[Workbench, FakeStack, list[str]]:
    fake, said = FakeStack(tmp_path), list[str]()
    return Workbench(stack=fake, auto_up=auto_up, say=said.append), fake, said


def _versions(wb: Workbench, job: str, count: int) -> None:
    for n in range(1, count + 1):
        wb.registry.add_version(
            JobVersion(job, 0, "sql", f"SELECT {n}", f"digest-{n}", "", key=("day",))
        )


def test_the_workbench_keeps_its_registry_where_the_stack_says(tmp_path: Path) -> None:
    wb, fake, _ = _bench(tmp_path)
    assert wb.stack is fake and wb.settings.home == tmp_path
    assert wb.registry.path == fake.places.registry_db
    assert fake.calls == {}  # constructing asks the stack nothing
    with pytest.raises(TypeError, match="one of settings, stack or profile"):
        Workbench(StackSettings(home=tmp_path), stack=fake)


def test_a_command_checks_the_health_once_however_often_it_needs_endpoints(
    tmp_path: Path,
) -> None:
    wb, fake, said = _bench(tmp_path, auto_up=True)
    first = wb.endpoints()  # nothing runs: auto_up starts it, once
    assert first.bootstrap_servers == "fake-kafka:9092"
    assert fake.calls["status"] == 1 and fake.calls["up"] == 1
    assert said == ["the stack is not running: starting it (as `%kappa up` would)"]
    fake.calls.clear()
    wb.down()  # the registry has no runs: one health check, then stop
    assert fake.calls == {"status": 1, "down": 1}
    fake.calls.clear()
    assert not wb.stack_status().healthy and not wb.stack_status().running
    assert fake.calls == {"status": 2}  # each command asks afresh: services come and go


def test_the_status_command_checks_the_health_once(tmp_path: Path) -> None:
    wb, fake, _ = _bench(tmp_path)
    status = COMMANDS["status"].handler
    fake.states = dict.fromkeys(fake.states, "running")
    shown = status(wb, Namespace(name=None, json=False), Context())
    assert isinstance(shown, FullStatus) and shown.stack.healthy and shown.runs is not None
    assert fake.calls["status"] == 1  # the stack's health and every run: one command
    fake.calls.clear()
    fake.states = dict.fromkeys(fake.states, "stopped")
    shown = status(wb, Namespace(name=None, json=False), Context())
    assert isinstance(shown, FullStatus) and shown.runs is None
    assert fake.calls == {"status": 1}  # down: no runs asked for, no start


def test_stop_resume_and_watch_look_each_version_up_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wb, fake, _ = _bench(tmp_path)
    _versions(wb, "daily", 2)
    fake.states = dict.fromkeys(fake.states, "running")
    looked_up: list[int | None] = []
    find = definitions.find_version

    def counted(registry: Registry, job: str, version: int | None) -> JobVersion:
        looked_up.append(version)
        return find(registry, job, version)

    monkeypatch.setattr(definitions, "find_version", counted)
    with pytest.raises(RunNotFoundError, match="daily v2 is not running"):
        wb.stop("daily", 2)
    with pytest.raises(RunNotFoundError, match="daily v2 has never run"):
        wb.resume("daily", 2)
    with pytest.raises(RunNotFoundError, match="no run of daily is running"):
        wb.watch("daily", [1])
    assert looked_up == [2, 2, None, 1]  # the workbench's checks; the control layer reuses them


def test_an_unhealthy_stack_is_named_and_never_started_twice(tmp_path: Path) -> None:
    wb, fake, _ = _bench(tmp_path, auto_up=True)
    fake.states = {
        "kafka": "running",
        "flink-jobmanager": "unhealthy",
        "flink-taskmanager": "running",
    }
    with pytest.raises(StackNotRunningError, match=r"not healthy \(flink-jobmanager\)"):
        wb.endpoints()
    assert "up" not in fake.calls  # something runs: auto_up does not touch it
    fake.states = dict.fromkeys(fake.states, "stopped")
    wb.auto_up = False
    with pytest.raises(StackNotRunningError, match="not running: start it with `%kappa up`"):
        wb.endpoints()


def test_up_with_slots_asks_the_stack_for_one_with_that_many(tmp_path: Path) -> None:
    wb, fake, _ = _bench(tmp_path)
    result = wb.up(task_slots=6)
    assert result.status.healthy and wb.settings.task_slots == 6
    assert wb.stack is not fake and fake.calls["up"] == 1
    assert "status" not in fake.calls  # up's own answer is the command's health


def test_refused_commands_never_ask_the_stack(tmp_path: Path) -> None:
    wb, fake, _ = _bench(tmp_path, auto_up=True)
    _versions(wb, "daily", 2)
    with pytest.raises(UnknownJobError):
        wb.promote("nightly", 2)
    with pytest.raises(PromoteError, match="no serving version yet"):
        wb.rollback("daily")
    with pytest.raises(CompareError, match="not v2 with itself"):
        wb.diff("daily", 2, 2)
    with pytest.raises(UnknownVersionError, match="has no v7"):
        wb.retire("daily", 7)
    with pytest.raises(UnknownVersionError, match="has no v9"):
        wb.replay("daily", 9)
    assert fake.calls == {}  # no health check, no auto start: nothing was asked


def test_up_sweeps_the_retired_tables_that_are_due_and_says_so(tmp_path: Path) -> None:
    wb, _, _ = _bench(tmp_path)
    assert isinstance(wb.registry, LocalRegistry)
    _versions(wb, "daily", 3)
    for version, before in ((1, None), (2, 1), (3, 2)):  # serves v3, v2 the rollback target
        wb.registry.switch("daily", version, f"daily__v{version}", kind="promote",
                           expect_from=before)  # fmt: skip
    now = wb.registry.clock()
    wb.registry.clock = lambda: now  # frozen: scheduled at exactly `now`, however slow
    wb.registry.schedule_removal("daily", 1, "daily__v1", 86_400_000)
    assert "daily__v1" not in str(wb.up())  # not due: up says nothing of it
    wb.registry.clock = lambda: now + 86_400_000
    said = str(wb.up())
    assert "removed daily__v1 (daily v1, retired " in said
    assert [r.state for r in wb.history("daily").removals] == ["removed"]
