"""The PyFlink gateway JVM an in-process Workbench launches ends with `down`, or at exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from kappanb.flink.sql import FlinkSqlClient, close_gateway, gateway_pids
from kappanb.stack.endpoints import Endpoints
from kappanb.workbench import Workbench
from tests.helpers import settings_for

pytestmark = pytest.mark.integration


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _children_running_the_gateway() -> list[int]:
    return [
        c.pid
        for c in psutil.Process().children()
        if _running(c.pid) and "PythonGatewayServer" in " ".join(c.cmdline())
    ]


def test_workbench_down_stops_the_gateway_jvm(tmp_path: Path) -> None:
    wb = Workbench(settings_for(tmp_path / "h", task_slots=1), auto_up=False)
    try:
        started = wb.up()
        assert started.started == ["kafka", "flink-jobmanager", "flink-taskmanager"], started
        wb._sql(wb.stack.endpoints())._gateway()  # what defining or running a job does first
        pids = gateway_pids()
        assert pids and all(_running(pid) for pid in pids)
        assert set(pids) <= set(_children_running_the_gateway())
    finally:
        wb.down()
    assert gateway_pids() == []
    assert not any(_running(pid) for pid in pids)
    assert _children_running_the_gateway() == []


def test_a_closed_gateway_is_launched_again_on_the_next_use(endpoints: Endpoints) -> None:
    client = FlinkSqlClient(endpoints)
    client._gateway()
    first = gateway_pids()
    assert close_gateway() == first and not any(_running(pid) for pid in first)
    assert client._gateway().jvm.System.getProperty("java.version")
    assert gateway_pids() and gateway_pids() != first
    assert all(_running(pid) for pid in gateway_pids())


def test_the_gateway_jvm_ends_with_the_interpreter(endpoints: Endpoints) -> None:
    # Exit handlers run last-registered first: the one registered before kappanb's runs
    # after it, while the interpreter (and so the JVM's stdin pipe) still lives. Only
    # kappanb's handler can have stopped the JVM by then.
    code = (
        "import atexit, psutil\n"
        "from kappanb.flink.sql import FlinkSqlClient, gateway_pids\n"
        "from kappanb.stack.embedded import EmbeddedStack\n"
        "from kappanb.settings import StackSettings\n"
        "seen = []\n"
        "def check():\n"
        "    alive = [p for p in seen if psutil.pid_exists(p)\n"
        "             and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]\n"
        "    print('alive at exit:', *alive)\n"
        "atexit.register(check)\n"
        "FlinkSqlClient(EmbeddedStack(StackSettings.from_env()).endpoints())._gateway()\n"
        "seen.extend(gateway_pids())\n"
        "print('gateway:', *seen)\n"
    )
    env = {**os.environ, "KAPPANB_HOME": str(endpoints.flink_lib.parent.parent)}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    launched, at_exit = proc.stdout.splitlines()[-2:]
    pids = [int(p) for p in launched.removeprefix("gateway:").split()]
    assert pids, proc.stdout
    assert at_exit == "alive at exit:", proc.stdout
    assert not any(_running(pid) for pid in pids)
