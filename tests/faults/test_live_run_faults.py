"""A live run through three faults of the stack, each between two parts of its input:

- `kill -9` of the JobManager, then `up`: the cluster comes back without the job, and
  `up` resumes the run from its latest retained checkpoint;
- `kill -9` of the Kafka broker, then `up`: the job rides it out and goes on;
- `down` then `up` while other programs hold the stack's ports: `down` suspends the run
  with a savepoint, `up` moves to free ports and resumes it.

After each, more events arrive and the output must equal the oracle over every part.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kappanb.exceptions import StackNotRunningError
from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.faults.recovery import DAILY_SQL, assert_exact, daily_oracle, daily_rows, kill, record
from tests.faults.recovery import tasks_running as all_tasks_running

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]

PART = 20_000


class LiveRun:
    """A job's live run over a topic that grows part by part, with the oracle's events."""

    def __init__(self, wb: Workbench, name: str, seed: int) -> None:
        self.wb, self.job = wb, f"{name}_daily"
        self.topic = f"faults.{name}.payments"
        self.table = table = f"{name}_payments"
        wb.topic(self.topic, PAYMENTS_SCHEMA, partitions=2, table=table, event_time="event_time")
        wb.job(self.job, DAILY_SQL.format(table=table))
        self.stream = PaymentsGenerator(seed=seed).events(10 * PART)
        self.events: list[dict[str, Any]] = []

    def produce_part(self) -> None:
        part = [next(self.stream) for _ in range(PART)]
        self.wb.produce(self.topic, part)
        self.events += part

    def wait_exact(self, timeout: float = 120) -> float:
        """Seconds until the output equals the oracle over every event so far."""
        began, expected = time.monotonic(), daily_oracle(self.events)
        while time.monotonic() - began < timeout:
            try:
                out = self.wb.read(self.job, 1).collect()
                if daily_rows(out) == expected:
                    assert_exact(out, self.events)
                    return time.monotonic() - began
            except Exception as exc:  # the table may not have a snapshot yet
                if "snapshot" not in str(exc).lower() and "no such" not in str(exc).lower():
                    raise
            time.sleep(0.5)
        assert_exact(self.wb.read(self.job, 1).collect(), self.events)  # says what differs
        raise AssertionError("unreachable")

    def flink_job(self) -> str:
        return self.wb.runs(self.job)[-1].flink_job_id


def _start(wb: Workbench, name: str, seed: int) -> LiveRun:
    live = LiveRun(wb, name, seed)
    live.produce_part()
    wb.run(live.job, watch=False)
    live.wait_exact()
    return live


@contextlib.contextmanager
def _listening(address: str) -> Iterator[None]:
    """Another program holds the port of ``address`` (``host:port`` or a URL)."""
    port = int(address.rstrip("/").rsplit(":", 1)[1])
    with socket.socket() as thief:
        # As a server would: a port the stack just closed may still have TIME_WAIT sockets.
        thief.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        thief.bind(("127.0.0.1", port))
        thief.listen()
        yield


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    began = time.monotonic()
    return action(), time.monotonic() - began


def _replay_finished_unseen(stack: EmbeddedStack, wb: Workbench, live: LiveRun) -> str:
    """A bounded replay of ``live``'s topic that finished while kappanb did not look: the
    registry still says RUNNING. The name of its job."""
    once = "jm_once"
    wb.job(once, DAILY_SQL.format(table=live.table))
    run = wb.replay(once, until="latest", watch=False).run
    rest = FlinkRest(stack.endpoints().flink_rest_url)
    assert rest.wait_for_state(run.flink_job_id, timeout=120) == "FINISHED"
    # The JobManager archives a job just after it ends: a kill before that loses it.
    archived = stack.layout.flink_job_archive / run.flink_job_id
    began = time.monotonic()
    while not archived.is_file():
        assert time.monotonic() - began < 60, f"Flink never archived {run.flink_job_id}"
        time.sleep(0.2)
    assert [r.state for r in wb.registry.runs(once)] == ["RUNNING"]  # not reconciled yet
    return once


def test_a_killed_jobmanager_comes_back_with_up_and_the_run_resumes_from_its_checkpoint(
    fault_stack: EmbeddedStack, fault_wb: Workbench
) -> None:
    live = _start(fault_wb, "jm", seed=91)
    once = _replay_finished_unseen(fault_stack, fault_wb, live)
    live.produce_part()  # the job is reading this part when its JobManager dies
    old_job = live.flink_job()
    kill(fault_stack, "flink-jobmanager")
    killed = time.monotonic()
    up, up_seconds = _timed(fault_wb.up)
    assert any(line.startswith("resumed jm_daily v1") for line in up.runs), up.runs
    # The replay had finished: the new JobManager does not know it, its archive does.
    assert [r.state for r in fault_wb.runs(once)] == ["FINISHED"], up.runs
    assert not any(once in line for line in up.runs), up.runs
    run = fault_wb.runs(live.job)[-1]
    assert run.state == "RUNNING" and run.flink_job_id != old_job
    assert run.restored_from and old_job in run.restored_from  # its retained checkpoint
    rest = FlinkRest(fault_stack.endpoints().flink_rest_url)
    while not all_tasks_running(rest, run.flink_job_id):
        assert time.monotonic() - killed < 120, "the resumed job never ran all its tasks"
        time.sleep(0.2)
    running = time.monotonic() - killed
    live.produce_part()
    live.wait_exact()
    record("JobManager kill -9 during a live run, then `up`", "1/1", running,
           f"`up` took {up_seconds:.1f} s and resumed from {run.restored_from.rsplit('/', 2)[-1]}"
           "; output exact")  # fmt: skip


def test_a_killed_broker_restarted_by_up_and_the_live_run_goes_on_exactly(
    fault_stack: EmbeddedStack, fault_wb: Workbench
) -> None:
    live = _start(fault_wb, "broker", seed=92)
    job = live.flink_job()
    kill(fault_stack, "kafka")
    # Producing now is refused before anything is sent, with what to do.
    with pytest.raises(StackNotRunningError, match=r"not healthy \(kafka\).*kappa up"):
        fault_wb.produce(live.topic, [next(live.stream)])
    time.sleep(3)  # the job's consumer now retries against a dead broker
    began = time.monotonic()
    up = fault_wb.up()
    assert "kafka" in up.started and not up.runs  # the job itself never stopped
    live.produce_part()
    exact = live.wait_exact()
    assert fault_wb.runs(live.job)[-1].flink_job_id == job
    state = FlinkRest(fault_stack.endpoints().flink_rest_url).job_state(job)
    assert state == "RUNNING", state
    record("Kafka broker kill -9 during a live run, then `up`", "1/1",
           time.monotonic() - began, f"same job, {state}; new events in the output "
           f"{exact:.1f} s after they were written; output exact")  # fmt: skip


def test_down_suspends_a_live_run_with_a_savepoint_and_up_resumes_it_on_other_ports(
    fault_stack: EmbeddedStack, fault_wb: Workbench
) -> None:
    live = _start(fault_wb, "downup", seed=93)
    down = fault_wb.down()
    assert any(line.startswith("suspended downup_daily v1") for line in down.runs), down.runs
    suspended = fault_wb.runs(live.job)[-1]
    assert suspended.state == "SUSPENDED" and suspended.savepoint
    old = fault_stack.endpoints()
    with _listening(old.bootstrap_servers), _listening(old.flink_rest_url):  # ports stolen
        up, up_seconds = _timed(fault_wb.up)
    moved = " ".join(up.notes)
    assert "the Kafka broker" in moved and "the Flink REST API" in moved, up.notes
    assert fault_stack.endpoints().bootstrap_servers != old.bootstrap_servers
    assert any(line.startswith("resumed downup_daily v1") for line in up.runs), up.runs
    resumed = fault_wb.runs(live.job)[-1]
    assert resumed.id == suspended.id and resumed.restored_from == suspended.savepoint
    live.produce_part()
    exact = live.wait_exact()
    record("`down` then `up` between two parts of a live run", "1/1", up_seconds,
           f"resumed from its savepoint; the second part in the output {exact:.1f} s after "
           "it was written; output exact")  # fmt: skip
