"""`kill -9` of the TaskManager during a replay, at ten different moments (three of them
while a checkpoint is being taken): Flink restarts the job from its latest checkpoint once
`up` has started a new TaskManager, and the output equals the oracle every time.

``--fault-trials N`` runs more trials (CI runs the default ten).
"""

from __future__ import annotations

import random
import time

import pytest

from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.faults.recovery import (
    DAILY_SQL,
    assert_exact,
    checkpoint_in_progress,
    completed_checkpoints,
    kill,
    read_so_far,
    record,
    wait_failed_over,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]

TOPIC = "faults.tm.payments"
EVENTS = 400_000
JOB = "tm_daily"


def moments(trials: int, seed: int = 8) -> list[tuple[str, float]]:
    """Per trial: "checkpoint" (kill while one is in progress, after one has completed) or a
    fraction of the log read; the fractions spread over 5%..75%, one per stratum, in a
    seeded order. (Later than 75% the replay can end between two of Flink's metric
    updates, which come every 0.5 s.)"""
    rng = random.Random(seed)
    during_checkpoint = {1, trials // 2, trials - 2}
    plain = [i for i in range(trials) if i not in during_checkpoint]
    fractions = [0.05 + 0.70 * (k + rng.random()) / len(plain) for k in range(len(plain))]
    rng.shuffle(fractions)
    chosen = dict(zip(plain, fractions, strict=True))
    return [("checkpoint", 0.0) if i in during_checkpoint else ("read", chosen[i])
            for i in range(trials)]  # fmt: skip


def test_the_taskmanager_killed_at_random_moments_of_a_replay_loses_and_doubles_nothing(
    fault_stack: EmbeddedStack, fault_wb: Workbench, request: pytest.FixtureRequest
) -> None:
    trials = int(request.config.getoption("--fault-trials"))
    wb = fault_wb
    wb.topic(TOPIC, PAYMENTS_SCHEMA, partitions=4, table="tm_payments", event_time="event_time")
    events = list(PaymentsGenerator(seed=88).events(EVENTS))
    wb.produce(TOPIC, events)
    wb.job(JOB, DAILY_SQL.format(table="tm_payments"))
    rest = FlinkRest(fault_stack.endpoints().flink_rest_url)
    outcomes: list[str] = []
    for trial, (kind, fraction) in enumerate(moments(trials)):
        for _attempt in range(3):  # a replay that ended before its moment is started again
            found = _trial(fault_stack, wb, rest, kind, fraction)
            if found is not None:
                break
        assert found is not None, f"three replays ended before their moment ({kind})"
        moment, seconds = found
        assert_exact(wb.read(JOB, 1).collect(), events)
        outcome = f"killed {moment}; output exact"
        record("TaskManager kill -9 during a replay", f"{trial + 1}/{trials}", seconds, outcome)
        outcomes.append(moment)
    during = sum("during checkpoint" in m for m in outcomes)
    assert during == sum(kind == "checkpoint" for kind, _ in moments(trials))
    assert trials < 10 or during >= 3


def _trial(
    stack: EmbeddedStack, wb: Workbench, rest: FlinkRest, kind: str, fraction: float
) -> tuple[str, float] | None:
    """One replay, killed at its moment: (the moment, seconds to recover), once it finished.
    None when the replay ended before its moment."""
    job_id = wb.replay(JOB, until="latest", restart=True, watch=False).run.flink_job_id
    killed = _kill_at(stack, rest, job_id, kind, fraction)
    if killed is None:
        return None
    moment, restarts = killed
    began = time.monotonic()
    stack.up()  # a new TaskManager, as `%kappa up` starts it
    failed_over = wait_failed_over(rest, job_id, restarts)
    if failed_over is None:
        return None  # its tasks had all finished before the kill
    assert rest.wait_for_state(job_id, timeout=240) == "FINISHED", rest.root_exception(job_id)
    return moment, time.monotonic() - began + failed_over


def _kill_at(
    stack: EmbeddedStack, rest: FlinkRest, job_id: str, kind: str, fraction: float
) -> tuple[str, int] | None:
    """Wait for the trial's moment, kill the TaskManager; say what the moment was and how
    often the job had restarted before. None when the replay finished first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = rest.job_state(job_id)
        if state == "FINISHED":
            return None
        assert state != "FAILED", rest.root_exception(job_id)
        read = read_so_far(rest, job_id)
        if kind == "read" and read >= fraction * EVENTS:
            restarts = rest.restarts(job_id)
            kill(stack, "flink-taskmanager")
            done = completed_checkpoints(rest, job_id)
            said = f"at {read / EVENTS:.0%} read (aimed {fraction:.0%}), {done} checkpoint(s) done"
            return said, restarts
        if (
            kind == "checkpoint"
            and (chk := checkpoint_in_progress(rest, job_id))
            and completed_checkpoints(rest, job_id) > 0
        ):
            restarts = rest.restarts(job_id)
            kill(stack, "flink-taskmanager")
            return f"during checkpoint {chk}, at {read / EVENTS:.0%} read", restarts
        time.sleep(0.02)
    raise AssertionError(f"the moment ({kind} {fraction:.0%}) never came")
