"""The panel's overview without a running stack: the registry's picture, which run of each
version is shown, and partial failures as problem lines (never an exception)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from kappanb.exceptions import FlinkRestError
from kappanb.registry.records import RunRecord
from kappanb.runs import overview as overview_module
from kappanb.runs.overview import STACK_DOWN, stack_problems
from kappanb.stack.ports import free_port
from kappanb.stack.status import ServiceStatus, StackStatus
from kappanb.workbench import Workbench
from tests.helpers import settings_for
from tests.server.conftest import seed


@pytest.fixture
def wb(tmp_path: Path) -> Workbench:
    settings = settings_for(tmp_path).with_ports(flink_rest=free_port(), kafka=free_port())
    workbench = Workbench(settings, auto_up=False)
    seed(workbench.registry)
    return workbench


def run(version: int, mode: str, state: str, **changes: object) -> RunRecord:
    record = RunRecord(0, "counts", version, mode, f"counts__v{version}", "g", "earliest",
                       None, "b" * 32, state, "")  # fmt: skip
    return replace(record, **changes)  # type: ignore[arg-type]


def test_with_the_stack_down_runs_are_shown_as_the_registry_has_them(wb: Workbench) -> None:
    wb.registry.add_run(run(1, "replay", "FINISHED", until="latest"))  # newer, not active
    wb.registry.add_run(run(2, "replay", "FAILED", error="boom"))
    wb.registry.add_run(run(2, "replay", "FINISHED", until="latest", table="counts__v2_2"))
    picture = wb.overview()
    assert picture.problems == [STACK_DOWN] and picture.flink_ui is None
    (counts,) = picture.jobs
    assert counts.serving == 1
    v1, v2 = (v.run for v in counts.versions)
    assert v1 is not None and (v1.mode, v1.state, v1.behind, v1.flink_url) == (
        "live", "RUNNING", None, None,
    )  # the active run, not the newer finished replay  # fmt: skip
    assert v2 is not None and (v2.state, v2.bounded, v2.finished, v2.caught_up, v2.table) == (
        "FINISHED", True, True, False, "counts__v2_2",
    )  # the newest of two ended runs  # fmt: skip
    data = json.loads(json.dumps(picture.to_dict()))
    assert list(data) == ["home", "stack", "flink_ui", "jobs", "problems", "warnings"]
    assert data["warnings"] == []  # nothing is checked in Kafka while the stack is down
    assert data["stack"]["running"] is False
    assert data["jobs"][0]["versions"][1]["run"]["error"] == ""


def test_an_unhealthy_stack_says_which_service_and_what_to_do() -> None:
    services = [ServiceStatus("kafka", "running", pid=1),
                ServiceStatus("flink-taskmanager", "unhealthy", pid=2)]  # fmt: skip
    status = StackStatus("/h", services)
    (line,) = stack_problems(status)
    assert "flink-taskmanager unhealthy" in line and "kafka " not in line
    assert "kappanb logs SERVICE" in line and "kappanb up" in line
    stopped = StackStatus("/h", [ServiceStatus("kafka", "stopped")])
    assert stack_problems(stopped) == [STACK_DOWN]
    assert stack_problems(StackStatus("/h", [ServiceStatus("kafka", "running", pid=1)])) == []


def test_a_stack_that_cannot_be_checked_still_shows_the_registry(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable() -> StackStatus:
        raise OSError("state file unreadable")

    monkeypatch.setattr(wb.stack, "status", unreadable)
    picture = wb.overview()
    assert picture.problems == ["could not check the stack: state file unreadable"]
    assert [j.name for j in picture.jobs] == ["counts"]
    assert picture.to_dict()["stack"] == {"healthy": False, "running": False, "services": []}


def test_figures_that_cannot_be_read_become_problem_lines(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flink says it is up, but its REST port refuses: the run keeps its registry state,
    and the run whose figures failed is named in a problem line."""
    up = StackStatus("/h", [ServiceStatus(name, "running", pid=1) for name in
                            ("kafka", "flink-jobmanager", "flink-taskmanager")])  # fmt: skip
    monkeypatch.setattr(wb.stack, "status", lambda: up)

    def no_figures(*_args: object) -> object:  # Kafka's timeouts would take 10 s here
        raise FlinkRestError("Flink REST at 127.0.0.1 did not answer")

    monkeypatch.setattr(overview_module, "sample_run", no_figures)
    picture = wb.overview()
    assert picture.flink_ui == wb.stack.endpoints().flink_rest_url
    (line,) = picture.problems
    assert line.startswith("counts v1 live run #1: no figures from Flink or Kafka (Flink REST")
    v1 = picture.jobs[0].versions[0].run
    assert v1 is not None and (v1.state, v1.behind, v1.caught_up) == ("RUNNING", None, False)
    assert v1.flink_url == f"{picture.flink_ui}/#/job/running/{'f' * 32}"


def test_with_the_stack_down_the_panel_is_offered_no_action(wb: Workbench) -> None:
    """The server refuses every job action while Flink is down (503): none is offered."""
    wb.registry.add_run(run(2, "replay", "CANCELED"))
    (counts,) = wb.overview().jobs
    assert counts.actions == [] and all(v.actions == [] for v in counts.versions)


def test_the_actions_offered_are_those_the_server_accepts(wb: Workbench) -> None:
    """Figures as `_sample_active` finds them: a stopped v2 can be promoted only by force,
    a caught-up one as it is; only a running version can be stopped; watch needs a run."""
    reg = wb.registry
    reg.add_run(run(2, "replay", "CANCELED"))
    runs = {(r.job, r.version): r for r in reg.runs()}
    live = runs[("counts", 1)]
    figures = {live.id: overview_module._Figures(0, True)}
    (counts,) = overview_module._jobs(reg, runs, figures, None)
    v1, v2 = counts.versions
    assert counts.actions == ["watch"]  # v1 runs; served from the start: nothing to roll back
    assert v1.actions == ["stop"]  # served: no promote
    assert v1.run is not None and (v1.run.shown, v1.run.progress) == ("RUNNING", "caught up")
    assert v2.actions == ["promote-force"]  # CANCELED: its output may be incomplete
    assert v2.run is not None and v2.run.progress == ""  # ended: neither caught up nor not
    runs[("counts", 2)] = replace(runs[("counts", 2)], state="RUNNING", id=9)
    figures[9] = overview_module._Figures(0, True)
    (counts,) = overview_module._jobs(reg, runs, figures, None)
    assert counts.versions[1].actions == ["promote", "stop"]
    figures[9] = overview_module._Figures(200_000, False)
    (counts,) = overview_module._jobs(reg, runs, figures, None)
    v2 = counts.versions[1]
    assert v2.actions == ["promote-force", "stop"]
    assert v2.run is not None and v2.run.progress == "catching up"
    assert v2.run.late_dropped == 0


def test_the_late_records_a_run_dropped_are_in_its_view(wb: Workbench) -> None:
    """The panel says what the watch's "late" column and `status` say: the count rides
    along, caught up or not (JSON too, for the side panel)."""
    reg = wb.registry
    runs = {(r.job, r.version): r for r in reg.runs()}
    live = runs[("counts", 1)]
    figures = {live.id: overview_module._Figures(0, True, late_dropped=1_250)}
    (counts,) = overview_module._jobs(reg, runs, figures, None)
    v1 = counts.versions[0].run
    assert v1 is not None and (v1.progress, v1.late_dropped) == ("caught up", 1_250)
    picture = wb.overview()
    shown = picture.to_dict()["jobs"][0]["versions"][0]["run"]
    assert shown["late_dropped"] == 0  # the stack is down here: not sampled


def test_a_promoted_replay_shows_as_the_live_run(wb: Workbench) -> None:
    reg = wb.registry
    reg.add_run(run(2, "replay", "RUNNING"))
    reg.switch("counts", 2, "counts__v2", kind="promote", expect_from=1)
    runs = {(r.job, r.version): r for r in reg.runs()}
    (counts,) = overview_module._jobs(reg, runs, {}, None)
    v2 = counts.versions[1].run
    assert v2 is not None and v2.mode == "live"
    assert counts.actions == ["watch", "rollback"]


def test_without_kafka_the_overview_samples_nothing(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flink up, the broker down (a `down` under way stops it last): no figures, so no
    Kafka client left retrying it. With the broker up, the same runs are sampled."""
    from kappanb.runs.runs import RunLauncher

    monkeypatch.setattr(RunLauncher, "reconciled", lambda _self, _name: wb.registry.runs())
    sampled: list[str] = []

    def sample(*args: object, **_kwargs: object) -> object:
        sampled.append(str(args[2]))
        raise FlinkRestError("no figures in this test")

    monkeypatch.setattr(overview_module, "sample_run", sample)
    for kafka in ("stopped", "running"):
        broker = ServiceStatus("kafka", kafka, pid=3 if kafka == "running" else None)
        up = StackStatus("/h", [broker, ServiceStatus("flink-jobmanager", "running", pid=1),
                                ServiceStatus("flink-taskmanager", "running", pid=2)])  # fmt: skip
        monkeypatch.setattr(wb.stack, "status", lambda up=up: up)
        picture = wb.overview()
        v1 = picture.jobs[0].versions[0].run
        assert v1 is not None and v1.behind is None
        assert sampled == ([] if kafka == "stopped" else ["f" * 32])


def test_the_panel_takes_a_notebook_watchs_verdict_while_the_run_stays_close(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One verdict for a run: the panel's own rule needs a few polls, a watch may have
    judged it already; while the run stays close the panel says what the watch said."""
    from kappanb.monitor.sample import Sample
    from kappanb.runs.runs import RunLauncher

    monkeypatch.setattr(RunLauncher, "reconciled", lambda _self, _name: wb.registry.runs())
    behind = {"now": 0}

    def sample(*_args: object, **_kwargs: object) -> Sample:
        return Sample(at=0.0, state="RUNNING", read_positions={"pay_v1": {0: 100 - behind["now"]}},
                      end_offsets={"pay_v1": {0: 100}})  # fmt: skip

    monkeypatch.setattr(overview_module, "sample_run", sample)
    up = StackStatus("/h", [ServiceStatus(name, "running", pid=1) for name in
                            ("kafka", "flink-jobmanager", "flink-taskmanager")])  # fmt: skip
    monkeypatch.setattr(wb.stack, "status", lambda: up)

    def v1() -> object:
        run = wb.overview().jobs[0].versions[0].run
        assert run is not None
        return run.progress

    assert v1() == "at the head"  # the panel's own rule: one poll is not enough
    (run,) = [r for r in wb.registry.runs() if r.version == 1]
    wb._verdicts.record(run.id, run.flink_job_id)  # as a notebook's watch does
    assert v1() == "caught up"
    behind["now"] = 50_000
    assert v1() == "catching up"  # fallen behind: the verdict no longer holds
