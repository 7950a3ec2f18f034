"""Every handle can wait: from `run` without a watch, from a bounded `replay` without one,
and from `resume`; each watches its run (through the run's shared sampler) when asked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from kappanb.generators import PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from tests.magics.conftest import fresh_workbench

pytestmark = pytest.mark.integration

JOB = "handles_counts"


def samplers_of(run_id: int) -> list[str]:
    return [
        t.name for t in threading.enumerate()
        if t.name.startswith(f"kappanb-watch-{JOB} ") and t.name.endswith(f" #{run_id}")
    ]  # fmt: skip


def until(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_unwatched_and_resumed_handles_wait_on_their_runs(idle_stack: EmbeddedStack) -> None:
    wb = fresh_workbench(idle_stack)
    wb.topic("handles.pay.v1", "payments", event_time="event_time", table="handles_pay")
    wb.produce("handles.pay.v1", list(PaymentsGenerator(seed=17).events(3_000)))
    counts = "SELECT merchant_id, COUNT(*) AS n FROM handles_pay GROUP BY merchant_id"
    wb.job(JOB, counts)
    wb.job(JOB, counts.replace("COUNT(*)", "SUM(amount_cents)"))

    quiet = wb.run(JOB, 1, watch=False)
    assert quiet.watch is None and samplers_of(quiet.run.id) == []  # nothing sampled yet
    assert quiet.wait(timeout=120) and quiet.caught_up, quiet.run_state
    assert len(samplers_of(quiet.run.id)) == 1  # acquired when asked, and only one

    bounded = wb.replay(JOB, 2, until="latest", watch=False)
    assert bounded.wait(timeout=180) and bounded.finished and not bounded.caught_up
    assert bounded.run_state == "FINISHED"

    wb.stop(JOB, 1, savepoint=True)
    assert until(lambda: not samplers_of(quiet.run.id))  # its run ended: so did its sampler
    resumed = wb.resume(JOB, 1)
    assert resumed.run.id == quiet.run.id and resumed.run.flink_job_id != quiet.run.flink_job_id
    assert resumed.watch is None and not samplers_of(resumed.run.id)
    assert resumed.wait(timeout=120) and resumed.caught_up, resumed.run_state
    assert resumed.run_state == "RUNNING" and len(samplers_of(resumed.run.id)) == 1
    resumed.stop_watching()
    assert not samplers_of(resumed.run.id)  # released: the thread ended (the run goes on)
    wb.stop(JOB, 1)
