"""A kernel restarted in the middle of a replay: the replay runs on in the Flink cluster, a
new kernel re-attaches through the registry and the REST API, sees it finish, and the
output equals the oracle."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.faults.reading import Reader, Reading
from tests.faults.recovery import DAILY_SQL, assert_exact, record

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]

EVENTS = 300_000
JOB = "kernel_daily"

WAIT_FINISHED = f"""
import time
for _ in range(480):
    said = str(get_ipython().run_line_magic("kappa", "status {JOB}"))
    if "FINISHED" in said:
        break
    time.sleep(0.5)
print(said)
"""


def run_cell(client: BlockingKernelClient, code: str, timeout: float = 240) -> str:
    """Run ``code`` in the kernel; return what it printed and displayed, or fail on an error."""
    said: list[str] = []

    def keep(msg: dict[str, Any]) -> None:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            said.append(content["text"])
        elif msg["msg_type"] in ("execute_result", "display_data"):
            said.append(content["data"].get("text/plain", ""))
        elif msg["msg_type"] == "error":
            said.append("\n".join(content["traceback"]))

    reply = client.execute_interactive(code, timeout=timeout, output_hook=keep)
    text = "".join(said)
    assert reply["content"]["status"] == "ok", text
    return text


def test_a_replay_outlives_its_kernel_and_a_new_kernel_sees_it_finish(
    fault_stack: EmbeddedStack, fault_wb: Workbench
) -> None:
    wb = fault_wb
    topic = "faults.kernel.payments"
    wb.topic(topic, PAYMENTS_SCHEMA, partitions=4, table="kernel_payments", event_time="event_time")
    events = list(PaymentsGenerator(seed=94).events(EVENTS))
    wb.produce(topic, events)
    wb.job(JOB, DAILY_SQL.format(table="kernel_payments"))
    env = {
        **os.environ,
        "KAPPANB_HOME": str(fault_stack.settings.home),
        "KAPPANB_CHECKPOINT_INTERVAL": "1 s",
    }
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env)
    try:
        first = manager.client()
        first.start_channels()
        first.wait_for_ready(timeout=60)
        said = run_cell(first, f"%load_ext kappanb\n%kappa replay {JOB} --until latest")
        assert "replay" in said, said
        run = wb.runs(JOB)[-1]
        rest = FlinkRest(fault_stack.endpoints().flink_rest_url)
        kafka = fault_stack.endpoints().kafka
        with Reading(Reader(rest, run.flink_job_id, kafka, run.group_id, topic)) as reading:
            while reading.read() == 0:  # restart once it reads
                assert rest.job_state(run.flink_job_id) == "RUNNING"
                time.sleep(0.05)
            first.stop_channels()
            manager.restart_kernel(now=True)  # kill -9 of the kernel, and a new one
            restarted = time.monotonic()
            read = reading.read()
        assert rest.job_state(run.flink_job_id) == "RUNNING" and read < EVENTS
        second = manager.client()
        second.start_channels()
        second.wait_for_ready(timeout=60)
        said = run_cell(second, f"%load_ext kappanb\n%kappa status {JOB}")
        attached = time.monotonic() - restarted
        seen = "RUNNING" if "RUNNING" in said else "FINISHED" if "FINISHED" in said else said
        said = run_cell(second, WAIT_FINISHED)
        assert "FINISHED" in said, said
        assert wb.runs(JOB)[-1].state == "FINISHED"  # the new kernel reconciled it
        second.stop_channels()
    finally:
        manager.shutdown_kernel(now=True)
    assert_exact(wb.read(JOB, 1).collect(), events)
    record("kernel restart in the middle of a replay", "1/1", attached,
           f"restarted at {read / EVENTS:.0%} read; the new kernel saw it {seen}, then "
           "FINISHED; output exact")  # fmt: skip
