"""The embedded stack, for real: up/status/down, ports, stale pid files, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from kappanb.exceptions import JavaNotFoundError, PortInUseError, ServiceStartError
from kappanb.kafka.produce import produce_json
from kappanb.kafka.topics import create_topic, end_offsets
from kappanb.stack.embedded import EmbeddedStack
from kappanb.stack.layout import SERVICES
from tests.helpers import settings_for
from tests.stack.clock import shift_boot_time

pytestmark = pytest.mark.integration


def _cli(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "KAPPANB_HOME": str(home), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "kappanb.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        check=False,
    )


def _nothing_running(stack: EmbeddedStack) -> bool:
    return all(s.pid is None for s in stack.status().services)


def test_second_up_starts_nothing_and_reports_what_runs(stack: EmbeddedStack) -> None:
    result = stack.up()
    assert result.started == []
    assert result.already_running == list(SERVICES)
    assert result.status.healthy
    assert "already running" in str(result)


def test_status_json_from_the_cli(stack: EmbeddedStack) -> None:
    proc = _cli(stack.layout.home, "status", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["healthy"] is True
    by_name = {s["name"]: s for s in data["services"]}
    assert set(by_name) == {*SERVICES, "iceberg-catalog"}
    assert all(psutil.pid_exists(by_name[s]["pid"]) for s in SERVICES)
    assert by_name["flink-jobmanager"]["web_ui"].startswith("http://127.0.0.1:")


def test_logs_show_each_service_started(stack: EmbeddedStack) -> None:
    # Other tests run jobs first, so the start lines need not be in a short tail: look in the
    # whole log, and check that `logs` is exactly that log's tail.
    for service, started in (
        ("kafka", "Kafka Server started"),
        ("flink-jobmanager", "Rest endpoint listening"),
    ):
        tail = stack.logs(service, lines=50).splitlines()
        text = stack.log_file(service).read_text(errors="replace")  # may have grown since
        assert started in text
        assert len(tail) == 50 and "\n".join(tail) in text
    proc = _cli(stack.layout.home, "logs", "flink-taskmanager", "-n", "5")
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 5


def test_second_home_runs_beside_the_first_on_other_ports(
    stack: EmbeddedStack, tmp_path: Path
) -> None:
    other = EmbeddedStack(settings_for(tmp_path / "second-home", task_slots=1))
    try:
        result = other.up()
        assert result.status.healthy
        first, second = stack.endpoints(), other.endpoints()
        assert first.bootstrap_servers != second.bootstrap_servers
        assert first.flink_rest_url != second.flink_rest_url
        if first.bootstrap_servers == "127.0.0.1:9092":  # the default was the first home's
            assert any("port 9092" in n and "is taken by" in n for n in result.notes)
    finally:
        other.down()
    assert _nothing_running(other)
    assert stack.status().healthy, "stopping the second home must not touch the first"


def test_explicit_port_in_use_fails_naming_it_and_starts_nothing(
    stack: EmbeddedStack, tmp_path: Path
) -> None:
    taken = int(stack.endpoints().bootstrap_servers.rsplit(":", 1)[1])
    other = EmbeddedStack(settings_for(tmp_path / "h").with_ports(kafka=taken))
    with pytest.raises(PortInUseError) as err:
        other.up()
    assert f"port {taken}" in str(err.value) and "java" in str(err.value)
    assert _nothing_running(other)
    assert not any(other.layout.pid_file(s).exists() for s in SERVICES)


def test_missing_java_stops_up_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    proc = _cli(tmp_path / "h", "up", env={"PATH": str(tmp_path), "JAVA_HOME": ""})
    assert proc.returncode == 1
    assert "kappanb: error: Java was not found on PATH" in proc.stderr
    assert "Traceback" not in proc.stderr
    other = EmbeddedStack(settings_for(tmp_path / "h"))
    with pytest.raises(JavaNotFoundError):
        other.up()
    assert not any(other.layout.pid_file(s).exists() for s in SERVICES)


def test_a_service_that_cannot_start_points_at_its_log(tmp_path: Path) -> None:
    broken = EmbeddedStack(settings_for(tmp_path / "h", kafka_heap="lots"))
    with pytest.raises(ServiceStartError) as err:
        broken.up()
    text = str(err.value)
    print(text)  # read it: what failed, the lines that say why, the log's path
    assert text.startswith("kafka exited during start-up")
    assert f"full log: {broken.layout.console_log('kafka')}" in text.splitlines()
    assert "Invalid initial heap size: -Xmslots" in text  # the JVM's own complaint
    assert len(text.splitlines()) <= 20
    assert _nothing_running(broken), "the JobManager started beside it must be stopped again"


def test_kafka_exiting_at_start_is_reported_by_its_error_not_its_whole_log(
    tmp_path: Path,
) -> None:
    # A log directory formatted for another node: Kafka logs the error with its stack
    # trace and exits. The message names the error and the log, without the frames.
    home = EmbeddedStack(settings_for(tmp_path / "h"))
    home.layout.kafka_data.mkdir(parents=True)
    (home.layout.kafka_data / "meta.properties").write_text(
        "version=1\ncluster.id=AAAAAAAAAAAAAAAAAAAAAA\nnode.id=7\n"
        "directory.id=BBBBBBBBBBBBBBBBBBBBBB\n"
    )
    with pytest.raises(ServiceStartError) as err:
        home.up()
    text = str(err.value)
    print(text)
    log = home.layout.console_log("kafka")
    assert text.startswith("kafka exited during start-up")
    assert "Stored node id 7 doesn't match previous node id 1" in text
    assert f"full log: {log}" in text.splitlines()
    assert "\tat " not in text and "\tat " in log.read_text()
    assert _nothing_running(home)


def test_stale_pid_files_are_detected_and_cleaned(tmp_path: Path) -> None:
    home = EmbeddedStack(settings_for(tmp_path / "h"))
    home.layout.run_dir.mkdir(parents=True)
    stale = {
        "service": "kafka",
        "pid": 999_999,
        "create_time": 1.0,
        "started_at": 1.0,
        "log_file": "",
    }
    home.layout.pid_file("kafka").write_text(json.dumps(stale))
    assert home.status().service("kafka").state == "stopped"
    outcome = home.down().outcomes
    assert outcome["kafka"] == "not running (stale pid file removed)"
    assert not home.layout.pid_file("kafka").exists()


@pytest.mark.slow
def test_interrupted_up_is_recovered_by_the_next_up_and_down(tmp_path: Path) -> None:
    home_dir = tmp_path / "h"
    env = {**os.environ, "KAPPANB_HOME": str(home_dir)}
    up = subprocess.Popen(
        [sys.executable, "-m", "kappanb.cli", "up"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    home = EmbeddedStack(settings_for(home_dir))
    deadline = time.monotonic() + 120
    while not home.layout.pid_file("flink-jobmanager").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    os.kill(up.pid, signal.SIGKILL)  # `up` dies halfway, its services keep running
    up.wait()
    result = home.up()
    assert result.status.healthy
    assert "kafka" in result.already_running
    assert "flink-taskmanager" in result.started
    home.down()
    assert _nothing_running(home)
    assert not any(home.layout.pid_file(s).exists() for s in SERVICES)


@pytest.mark.slow
def test_down_then_up_keeps_the_log(stack: EmbeddedStack) -> None:
    """The log is the system of record: events survive a restart of the stack."""
    kafka = stack.endpoints().kafka
    create_topic(kafka, "restart.check.v1", partitions=2)
    produce_json(kafka, "restart.check.v1", ({"n": i} for i in range(500)))
    before = end_offsets(kafka, "restart.check.v1")
    outcomes = stack.down().outcomes
    assert set(outcomes.values()) <= {"stopped", "killed"}
    assert _nothing_running(stack)
    stack.up()
    after_endpoints = stack.endpoints()
    assert end_offsets(after_endpoints.kafka, "restart.check.v1") == before
    assert sum(before.values()) == 500


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[EmbeddedStack]:
    """A stack of the test's own (one slot), for tests that lose track of it or stop it."""
    home = EmbeddedStack(settings_for(tmp_path / "h", task_slots=1))
    result = home.up()
    assert result.started == list(SERVICES), str(result)
    yield home
    home.down()


def _pids(stack: EmbeddedStack) -> dict[str, int | None]:
    """Each service's pid as `status` reports it (None: "stopped"). A health check that
    times out on a loaded machine says "unhealthy", still with the pid: not what these
    tests are about."""
    return {s: stack.status().service(s).pid for s in SERVICES}


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_clock_step_leaves_the_stack_running_up_and_down_find_it(
    own_stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids = _pids(own_stack)
    assert None not in pids.values()
    for step in (18.0, -18.0):
        shift_boot_time(monkeypatch, step)
        assert _pids(own_stack) == pids, str(own_stack.status())
        result = own_stack.up()
        assert result.started == [] and result.already_running == list(SERVICES)
        assert _pids(own_stack) == pids, "up must not start a second set"
        monkeypatch.undo()
    # Pid files as kappanb wrote them before it recorded start ticks, after a step.
    for service in SERVICES:
        record = json.loads(own_stack.layout.pid_file(service).read_text())
        old = {k: record[k] for k in ("service", "pid", "create_time", "started_at", "log_file")}
        own_stack.layout.pid_file(service).write_text(json.dumps(old))
    shift_boot_time(monkeypatch, 18.0)
    assert _pids(own_stack) == pids, str(own_stack.status())
    outcomes = own_stack.down().outcomes
    assert set(outcomes.values()) <= {"stopped", "killed"}, outcomes
    assert all(_gone(pid) for pid in pids.values() if pid)
    assert not any(own_stack.layout.pid_file(s).exists() for s in SERVICES)


def test_services_running_without_pid_files_are_taken_back_not_doubled(
    own_stack: EmbeddedStack,
) -> None:
    # What an older kappanb's `down` left after a clock step: the JVMs, no pid files.
    pids = _pids(own_stack)
    for service in SERVICES:
        own_stack.layout.pid_file(service).unlink()
    assert _pids(own_stack) == pids, str(own_stack.status())
    result = own_stack.up()
    assert result.started == [] and _pids(own_stack) == pids
    assert sum("tracks it again" in note for note in result.notes) == len(SERVICES)
    assert all(own_stack.layout.pid_file(s).exists() for s in SERVICES)
    for service in SERVICES:
        own_stack.layout.pid_file(service).unlink()
    outcomes = own_stack.down().outcomes
    assert set(outcomes.values()) <= {"stopped", "killed"}, outcomes
    assert all(_gone(pid) for pid in pids.values() if pid)
