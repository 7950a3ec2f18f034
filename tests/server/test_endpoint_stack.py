"""The endpoint over the session's real stack: a running job's state, records behind and
caught-up flag over HTTP, then promote, rollback and stop through the endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kappanb.generators import PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.server.jupyter import JupyterServer, jupyter_server

pytestmark = pytest.mark.integration

JOB = "srv_counts"
TOPIC = "srv.payments.v1"
SQL = "SELECT merchant_id, COUNT(*) AS n FROM srvpay WHERE {} GROUP BY merchant_id"


@pytest.fixture
def wb(stack: EmbeddedStack) -> Iterator[Workbench]:
    workbench = Workbench(replace(stack.settings, checkpoint_interval="2 s"), auto_up=False)
    yield workbench
    for run in workbench.runs(JOB):
        if run.active:
            workbench.stop(JOB, run.version)


@pytest.fixture
def server(stack: EmbeddedStack, tmp_path: Path) -> Iterator[JupyterServer]:
    with jupyter_server(stack.settings.home, tmp_path,
                        {"KAPPANB_CHECKPOINT_INTERVAL": "2 s"}) as running:  # fmt: skip
        yield running


def version_of(state: dict[str, Any], number: int) -> dict[str, Any]:
    (job,) = [j for j in state["jobs"] if j["name"] == JOB]
    (version,) = [v for v in job["versions"] if v["version"] == number]
    found: dict[str, Any] = version
    return found


def poll(server: JupyterServer, until: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """GET state every second, as the panel does, until ``until`` holds (at most 2 min)."""
    deadline, state = time.monotonic() + 120, dict[str, Any]()
    while time.monotonic() < deadline:
        response = server.get("state")
        assert response.status_code == 200
        state = dict(response.json())
        if until(state):
            return state
        time.sleep(1)
    raise AssertionError(f"state never got there: {state}")


def test_the_panels_endpoint_over_a_running_job(wb: Workbench, server: JupyterServer) -> None:
    wb.topic(TOPIC, "payments", table="srvpay", event_time="event_time")
    wb.produce(TOPIC, PaymentsGenerator(seed=5).events(5000))
    wb.job(JOB, SQL.format("captured"))
    wb.run(JOB, watch=False)  # the first live run: v1 serves
    wb.job(JOB, SQL.format("NOT captured"))

    def v1_running(state: dict[str, Any]) -> bool:
        run = version_of(state, 1)["run"]
        return run is not None and run["state"] == "RUNNING" and run["behind"] is not None

    state = poll(server, v1_running)
    assert state["stack"]["healthy"] is True and state["problems"] == []
    assert state["flink_ui"] == wb.stack.endpoints().flink_rest_url
    (job,) = [j for j in state["jobs"] if j["name"] == JOB]
    assert job["serving"] == 1 and version_of(state, 2)["run"] is None
    v1 = version_of(state, 1)["run"]
    assert v1["mode"] == "live" and v1["bounded"] is False and v1["behind"] >= 0
    assert v1["flink_url"].startswith(state["flink_ui"]) and v1["table"] == f"{JOB}__v1"
    names = server.get("names").json()
    assert TOPIC in names["topics"] and "srvpay" in names["sql_tables"]
    assert names["versions"][JOB] == [1, 2] and f"{JOB}__v1" in names["tables"]

    # The live run catches up by the watch's rule (close for 3 polls, then a checkpoint).
    poll(server, lambda s: version_of(s, 1)["run"]["caught_up"])
    wb.replay(JOB, 2, until="latest", watch=False)
    state = poll(server, lambda s: (version_of(s, 2)["run"] or {}).get("finished", False))
    v2 = version_of(state, 2)["run"]
    assert (v2["mode"], v2["bounded"], v2["state"], v2["caught_up"]) == (
        "replay", True, "FINISHED", False,
    )  # fmt: skip

    with wb.registry.job_lock(JOB, "a notebook's promote"):
        busy = server.post(f"jobs/{JOB}/promote", {"version": 2})
    assert busy.status_code == 409 and "a notebook's promote" in busy.json()["message"]
    assert wb.serving(JOB) == 1

    promoted = server.post(f"jobs/{JOB}/promote", {"version": 2, "reason": "over HTTP"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json() == {"message": promoted.json()["message"], "serving": 2}
    assert wb.serving(JOB) == 2  # the registry, as every kernel reads it
    assert wb.history(JOB).switches[-1].reason == "over HTTP"
    (job,) = [j for j in server.get("state").json()["jobs"] if j["name"] == JOB]
    assert job["serving"] == 2

    back = server.post(f"jobs/{JOB}/rollback", {"reason": "not yet"})
    assert back.status_code == 200 and back.json()["serving"] == 1 and wb.serving(JOB) == 1
    stopped = server.post(f"jobs/{JOB}/stop", {"version": 1})
    assert stopped.status_code == 200 and "stopped" in stopped.json()["message"]
    assert not any(r.active for r in wb.runs(JOB))
    again = server.post(f"jobs/{JOB}/stop", {"version": 1})
    assert again.status_code == 409 and "is not running" in again.json()["message"]
