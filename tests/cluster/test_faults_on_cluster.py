"""Faults on the cluster, each mid-replay, each leaving the output exactly equal to an
oracle: a TaskManager killed (the job restarts on the other one from its checkpoint on S3),
a Kafka broker killed (the replay reads on from the two left: topics have 3 copies and
min.insync.replicas 2), the JobManager killed and started again (the job is lost with it;
`up` resumes the run from its newest checkpoint on S3).

After each fault `cluster.up()` starts what died, so the next test has the whole cluster.
Runs before test_local_cluster.py, whose last test takes the package's cluster down.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from kappanb.cluster import flink_nodes
from kappanb.cluster.local import LocalCluster
from kappanb.flink.rest import FlinkRest
from kappanb.generators import PaymentsGenerator
from kappanb.kafka.produce import produce_json
from kappanb.runs.report import RunHandle
from kappanb.workbench import Workbench
from tests.cluster.test_jobs_on_cluster import SQL
from tests.faults.reading import Reader
from tests.faults.recovery import Killed, act_while_reading
from tests.oracles import daily_payments, eventually

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

EVENTS = 150_000
"""Enough that a replay on the cluster takes a checkpoint (every second here) well before
its end."""


def _events(wb: Workbench, topic: str, table: str, seed: int) -> list[dict[str, Any]]:
    wb.topic(topic, "payments", event_time="event_time", watermark="30 s", partitions=3,
             table=table)  # fmt: skip
    events = list(PaymentsGenerator(seed=seed).events(EVENTS))
    assert wb.produce(topic, events).delivered == EVENTS
    return events


def _kill(cluster: LocalCluster, service: str, named_pid: int | None = None) -> None:
    """kill -9 ``service``; ``named_pid``: the pid something else named for it, which must
    be the cluster's."""
    pid = cluster.status().service(service).pid
    assert pid is not None, f"{service} is not running"
    assert named_pid in (None, pid), f"{service} runs as pid {pid}, not {named_pid}"
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and cluster.status().service(service).state != "stopped":
        time.sleep(0.1)
    assert cluster.status().service(service).state == "stopped", f"{service} survived kill -9"


def _replay_through(
    wb: Workbench, job: str, topic: str, act: Callable[[RunHandle], None]
) -> tuple[RunHandle, Killed]:
    """Replay v1 to the log's end and ``act`` once it has a checkpoint and read 30% of the
    log (a replay that read everything first missed its moment: again, at most 3 times)."""
    missed: list[str] = []
    for _attempt in range(3):
        handle = wb.replay(job, 1, until="latest", restart=True)
        reader = Reader.of(wb, handle, topic)
        moment = act_while_reading(reader, EVENTS, 0.3, partial(act, handle), 240)
        if isinstance(moment, Killed):
            return handle, moment
        missed.append(moment)
    raise AssertionError(f"three replays missed their moment: {missed}")


def _exact(wb: Workbench, job: str, events: list[dict[str, Any]], handle: RunHandle) -> None:
    assert handle.wait(timeout=420) and handle.finished, handle.run_state
    _read_equals(wb, job, events)


def _read_equals(wb: Workbench, job: str, events: list[dict[str, Any]]) -> None:
    assert _table(wb, job) == daily_payments(events, captured=True)


def _table(wb: Workbench, job: str) -> dict[Any, tuple[int, int, int]]:
    return {r["day"]: (r["merchants"], r["payments"], r["amount"])
            for r in wb.read(job, 1).collect().to_dicts()}  # fmt: skip


def _after(events: list[dict[str, Any]]) -> datetime:
    return datetime.fromisoformat(events[-1]["event_time"]).replace(tzinfo=UTC)


@pytest.fixture
def fast_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAPPANB_CHECKPOINT_INTERVAL", "1 s")


@pytest.mark.timeout(900)
def test_a_taskmanager_killed_mid_replay_restarts_on_the_other_exactly(
    workbench: Workbench, local_cluster: LocalCluster, fast_checkpoints: None
) -> None:
    wb, job = workbench, "fault_tm"
    topic = "cluster.fault.tm.v1"
    events = _events(wb, topic, "fault_tm_payments", seed=41)
    wb.job(job, SQL.format(table="fault_tm_payments", condition="captured"))
    rest = FlinkRest(wb.stack.endpoints().flink_rest_url)
    killed_services: list[str] = []

    def kill_its_taskmanager(handle: RunHandle) -> None:
        job_id = handle.run.flink_job_id
        vertex = rest.job(job_id)["vertices"][0]["id"]
        subtasks = rest._request("GET", f"/jobs/{job_id}/vertices/{vertex}")["subtasks"]
        where = str(subtasks[0]["taskmanager-id"])
        service = next(s for s in ("flink-taskmanager-1", "flink-taskmanager-2")
                       if flink_nodes.resource_id(s) == where)  # fmt: skip
        # the handle names the same process, as the cluster knows it
        found = handle.taskmanager()
        assert found.name == service, (found, service)
        killed_services.append(service)
        _kill(local_cluster, service, found.pid)

    handle, killed = _replay_through(wb, job, topic, kill_its_taskmanager)
    restarted = eventually(lambda: rest.restarts(handle.run.flink_job_id),
                           lambda n: n > killed.restarts, timeout=180)  # fmt: skip
    assert restarted > killed.restarts  # it ran again, on the TaskManager left
    _exact(wb, job, events, handle)
    # `up` on the profile of kappanb's own cluster starts what of it is stopped, only that
    up = wb.up()
    assert up.started == killed_services[-1:] and up.status.healthy, up
    assert local_cluster.status().healthy  # the killed TaskManager back for what follows


@pytest.mark.timeout(900)
def test_a_broker_killed_mid_replay_leaves_the_replay_reading_from_two(
    workbench: Workbench, local_cluster: LocalCluster, fast_checkpoints: None
) -> None:
    wb, job = workbench, "fault_broker"
    topic = "cluster.fault.broker.v1"
    events = _events(wb, topic, "fault_broker_payments", seed=42)
    wb.job(job, SQL.format(table="fault_broker_payments", condition="captured"))
    handle, _killed = _replay_through(wb, job, topic, lambda _h: _kill(local_cluster, "kafka-2"))
    _exact(wb, job, events, handle)
    assert local_cluster.status().service("kafka-2").state == "stopped"  # read from two
    assert local_cluster.up().status.healthy


@pytest.mark.timeout(900)
def test_the_jobmanager_killed_and_started_again_then_up_resumes_a_live_run_exactly(
    workbench: Workbench, local_cluster: LocalCluster, fast_checkpoints: None
) -> None:
    """A live run (a bounded replay resumed after its JobManager died read to its end and
    did not finish: left open, see docs/existing-cluster.md)."""
    wb, job = workbench, "fault_jm"
    topic = "cluster.fault.jm.v1"
    wb.topic(topic, "payments", event_time="event_time", watermark="30 s", partitions=3,
             table="fault_jm_payments")  # fmt: skip
    wb.job(job, SQL.format(table="fault_jm_payments", condition="captured"))
    rest = FlinkRest(wb.stack.endpoints().flink_rest_url)
    live = wb.run(job)
    lost_job = live.run.flink_job_id
    # Paced, as a live feed: the run cannot read it all before its first checkpoint (it
    # did, in CI, with the events there before it started).
    events = list(PaymentsGenerator(seed=43).events(EVENTS))
    kafka = wb.stack.endpoints().kafka
    feed = threading.Thread(target=produce_json, args=(kafka, topic, events),
                            kwargs={"rate": 20_000})  # fmt: skip
    feed.start()
    try:
        kill = partial(_kill, local_cluster, "flink-jobmanager")
        moment = act_while_reading(Reader.of(wb, live, topic), EVENTS, 0.2, kill, 240)
    finally:
        feed.join()
    assert isinstance(moment, Killed), moment
    local_cluster.up()  # a new JobManager, without the job; the TaskManagers register again
    assert eventually(lambda: local_cluster.status().healthy, bool, timeout=120)
    slots = eventually(lambda: rest._request("GET", "/overview")["slots-available"],
                       lambda n: n == 4, timeout=120)  # fmt: skip
    assert slots == 4  # both TaskManagers registered with the new JobManager again
    up = wb.up()  # what a user runs next: kappanb resumes what the crash lost
    resumed = wb.runs(job)[0]
    assert resumed.flink_job_id != lost_job and resumed.state == "RUNNING", up.runs
    assert str(resumed.restored_from).startswith(f"s3://state/checkpoints/{lost_job}/chk-")
    more = list(PaymentsGenerator(seed=44, start=_after(events)).events(2_000))
    wb.produce("cluster.fault.jm.v1", more)  # and it goes on reading
    expected = daily_payments(events + more, captured=True)
    got = eventually(lambda: _table(wb, job), lambda t: t == expected, timeout=300)
    assert got == expected
