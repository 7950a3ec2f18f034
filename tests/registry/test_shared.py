"""The registry of a cluster on a real Kafka (the session's broker), one topic per test:
processes with caches of their own see each other's changes, race for a job's lock, and
outlive a killed holder; a wiped cache is rebuilt the same, a deleted topic is named."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kappanb.exceptions import (
    JobBusyError,
    PromoteError,
    RegistryLogError,
    RegistryUnreachableError,
)
from kappanb.kafka.connection import KafkaConnection
from kappanb.kafka.topics import describe_topic, end_offsets
from kappanb.registry.log import RegistryLog
from kappanb.registry.shared import LogRegistry
from kappanb.stack.endpoints import Endpoints
from tests.registry.log_child import seen
from tests.registry.test_events import dump
from tests.registry.test_store import _draft

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]


@pytest.fixture
def topic() -> str:
    return f"_kappanb.registry.test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def kafka(endpoints: Endpoints) -> KafkaConnection:
    return endpoints.kafka


def registry(kafka: KafkaConnection, topic: str, cache: Path, lease: float = 30.0) -> LogRegistry:
    return LogRegistry(RegistryLog(kafka, topic), cache, lease)


def child(kafka: KafkaConnection, topic: str, cache: Path, *args: str) -> subprocess.Popen[str]:
    """Another machine: its own process and cache, the same Kafka topic."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = ["-m", "tests.registry.log_child", kafka.bootstrap_servers, topic, str(cache)]
    return subprocess.Popen([sys.executable, *command, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)  # fmt: skip


def answer(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    return proc.stdout.readline().strip()


def run_child(kafka: KafkaConnection, topic: str, cache: Path, *args: str) -> Any:
    proc = child(kafka, topic, cache, *args)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    return json.loads(out)


@pytest.fixture
def reaped() -> Iterator[list[subprocess.Popen[str]]]:
    """Children a test starts; killed at its end if still alive."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def test_two_processes_see_each_others_topics_versions_runs_and_switches(
    kafka: KafkaConnection, topic: str, tmp_path: Path
) -> None:
    written = run_child(kafka, topic, tmp_path / "other.sqlite", "write")
    here = registry(kafka, topic, tmp_path / "here.sqlite")
    assert seen(here) == written and written["switches"][0][1:3] == [1, "first live run"]
    assert written["topics"] == ["child.pay"] and written["runs"][0][:3] == [1, "j", 1]
    v2, created = here.add_version(_draft("j", "here"))
    assert created and v2.version == 2
    here.switch("j", 2, "j__v2", kind="promote", expect_from=1)
    with pytest.raises(PromoteError, match="changed meanwhile"):  # checked against the log
        here.switch("j", 2, "j__v2", kind="promote", expect_from=1)
    there = run_child(kafka, topic, tmp_path / "other.sqlite", "read")
    assert there == seen(here)
    assert [v[:3] for v in there["versions"]] == [["j", 1, "child"], ["j", 2, "here"]]
    assert [s[1:3] for s in there["switches"]] == [[1, "first live run"], [2, "promote"]]


def test_of_two_processes_racing_for_a_job_exactly_one_wins_and_the_other_is_told_who(
    kafka: KafkaConnection, topic: str, tmp_path: Path, reaped: list[subprocess.Popen[str]]
) -> None:
    go = tmp_path / "go"
    racers = [
        child(
            kafka,
            topic,
            tmp_path / f"c{i}.sqlite",
            "race",
            "counts",
            f"promote counts v{i}",
            str(go),
        )
        for i in (1, 2)
    ]
    reaped.extend(racers)
    registry(kafka, topic, tmp_path / "here.sqlite").topics()  # the topic exists: a fair start
    go.touch()
    said = [answer(p) for p in racers]
    assert sorted(s.split()[0] for s in said) == ["busy", "won"], said
    winner = racers[said.index("won")]
    refusal = next(s for s in said if s.startswith("busy"))
    won_as = f"promote counts v{said.index('won') + 1}"
    assert f"(`{won_as}`, pid {winner.pid} on " in refusal and "was not started" in refusal
    here = registry(kafka, topic, tmp_path / "here.sqlite")
    with pytest.raises(JobBusyError, match=f"pid {winner.pid}"), here.job_lock("counts", "stop"):
        pass
    assert winner.stdin is not None
    winner.stdin.close()  # the winner's command ends: it releases the job
    assert winner.wait(30) == 0
    with here.job_lock("counts", "promote counts v3"):
        pass


def test_a_killed_holders_lock_frees_after_its_lease(
    kafka: KafkaConnection, topic: str, tmp_path: Path, reaped: list[subprocess.Popen[str]]
) -> None:
    lease = 6.0  # long enough for the first try below, on a busy machine
    holder = child(kafka, topic, tmp_path / "h.sqlite", "hold", "counts", "replay counts v2",
                   str(lease))  # fmt: skip
    reaped.append(holder)
    here = registry(kafka, topic, tmp_path / "here.sqlite")
    assert answer(holder) == "held"
    here.topics()  # connected, caught up: the next try is one round trip
    os.kill(holder.pid, signal.SIGKILL)  # no release, no more heartbeats
    busy = rf"replay counts v2`, pid {holder.pid}"
    with pytest.raises(JobBusyError, match=busy), here.job_lock("counts", "promote counts v2"):
        pass
    deadline = time.monotonic() + 60
    while True:  # the condition: the lease ran out by broker time
        try:
            with here.job_lock("counts", "promote counts v2"):
                break
        except JobBusyError:
            assert time.monotonic() < deadline, "the dead holder's lease never ran out"
            time.sleep(0.2)
    here.topics()  # catch up with the release
    lease_row = here.cache.read(
        lambda c: c.execute("SELECT count(*) FROM leases WHERE job = 'counts'").fetchone()[0]
    )
    assert lease_row == 0  # released by the new holder at its end


def test_the_heartbeat_keeps_a_running_commands_lock_past_its_lease(
    kafka: KafkaConnection, topic: str, tmp_path: Path
) -> None:
    holder = registry(kafka, topic, tmp_path / "holder.sqlite", lease=2.0)
    other = registry(kafka, topic, tmp_path / "other.sqlite")
    with holder.job_lock("counts", "replay counts v2"):
        other.topics()
        granted_at = other.cache.position().clock_ms
        deadline = time.monotonic() + 60
        while other.cache.position().clock_ms - granted_at < 3 * 2_000:  # renewals move it
            assert time.monotonic() < deadline, "no renewal reached the log"
            time.sleep(0.1)
            other.topics()
        refused = pytest.raises(JobBusyError, match="replay counts v2")
        with refused, other.job_lock("counts", "promote counts v2"):
            pass
    with other.job_lock("counts", "promote counts v2"):  # released at the end
        pass


def test_a_wiped_cache_is_rebuilt_the_same_as_every_other_machines(
    kafka: KafkaConnection, topic: str, tmp_path: Path
) -> None:
    run_child(kafka, topic, tmp_path / "other.sqlite", "write")
    here = registry(kafka, topic, tmp_path / "here.sqlite")
    here.add_version(_draft("j", "here"))
    with here.job_lock("j", "promote j v2"):
        here.switch("j", 2, "j__v2", kind="promote", expect_from=1)
    here.runs()
    before = dump(here.path)
    for wiped in tmp_path.glob("here.sqlite*"):
        wiped.unlink()
    rebuilt = registry(kafka, topic, tmp_path / "here.sqlite")
    assert seen(rebuilt) == seen(here) and dump(rebuilt.path) == before
    run_child(kafka, topic, tmp_path / "other.sqlite", "read")  # the other machine catches up
    assert dump(tmp_path / "other.sqlite") == before


def gone_in(read: Callable[[], object]) -> str:
    """How ``read`` says the registry's topic is gone, once the deletion shows (soon after
    it is acknowledged); never a read from the cache as if the brokers were away."""
    deadline = time.monotonic() + 30
    while True:
        try:
            read()
        except RegistryUnreachableError:
            raise
        except RegistryLogError as gone:
            return next(p for p in GONE if p in str(gone))
        assert time.monotonic() < deadline, "the topic's deletion never showed"
        time.sleep(0.2)


GONE = ("is gone, though this machine read it up to offset 0",
        "is gone (deleted while kappanb read it)")  # fmt: skip


def test_a_deleted_topic_is_named_and_not_made_again(
    kafka: KafkaConnection, topic: str, tmp_path: Path
) -> None:
    from confluent_kafka.admin import AdminClient

    here = registry(kafka, topic, tmp_path / "here.sqlite")
    here.add_version(_draft("j", "d1"))
    admin = AdminClient(kafka.client_config())  # kept: a dropped client ends its requests
    admin.delete_topics([topic])[topic].result(30)
    assert gone_in(lambda: registry(kafka, topic, tmp_path / "here.sqlite").versions()) == (
        "is gone, though this machine read it up to offset 0"
    )  # a new process, the same cache
    assert gone_in(here.versions) == "is gone (deleted while kappanb read it)"  # this one
    with pytest.raises(Exception, match="does not exist"):
        describe_topic(kafka, topic)


def test_a_topic_made_unfit_by_another_tool_is_refused(
    kafka: KafkaConnection, topic: str, tmp_path: Path
) -> None:
    from kappanb.kafka.topics import create_topic

    create_topic(kafka, topic, partitions=2, extra_config={"message.timestamp.type": "CreateTime"})
    unfit = registry(kafka, topic, tmp_path / "here.sqlite")
    with pytest.raises(RegistryLogError, match=r"has 2 partition.*=CreateTime; it needs one"):
        unfit.versions()
    with pytest.raises(RegistryLogError, match="it needs one partition"):
        unfit.add_version(_draft("j", "d1"))
    assert end_offsets(kafka, topic) == {0: 0, 1: 0}  # nothing was written to it
