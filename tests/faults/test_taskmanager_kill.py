"""`kill -9` of the TaskManager during a replay, at ten different moments (three of them
while a checkpoint is being taken): Flink restarts the job from its latest checkpoint once
`up` has started a new TaskManager, and the output equals the oracle every time.

``--fault-trials N`` runs more trials (CI runs the default ten).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

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
    tasks_running,
    wait_failed_over,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]

TOPIC = "faults.tm.payments"
EVENTS = 250_000
JOB = "tm_daily"


def moments(trials: int, seed: int = 8) -> list[tuple[str, float]]:
    """Per trial: "checkpoint" (kill while one is in progress, after one has completed) or a
    fraction of an undisturbed replay's time; the fractions spread over 5%..75%, one per
    stratum, in a seeded order."""
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
    # The second on a TaskManager whose JIT has warmed up: the shorter span (a trial's new
    # TaskManager starts cold, so its replay runs longer and the moment comes in time).
    span = min(_undisturbed_replay(wb, rest, events) for _ in range(2))
    outcomes: list[str] = []
    for trial, (kind, fraction) in enumerate(moments(trials)):
        missed: list[str] = []
        aim = fraction * span
        for _attempt in range(3):  # a replay that ended before its moment is started again
            found = _trial(fault_stack, wb, rest, kind, aim)
            if not isinstance(found, Missed):
                break
            missed.append(found.reason)
            # Replays speed up as the JIT warms: aim at the same fraction of the pace of the
            # replay that just ran past its moment.
            aim = fraction * (found.span if found.span is not None else span)
        assert not isinstance(found, Missed), f"three replays missed their moment: {missed}"
        moment, seconds = found
        assert_exact(wb.read(JOB, 1).collect(), events)
        outcome = f"killed {moment}; output exact"
        record("TaskManager kill -9 during a replay", f"{trial + 1}/{trials}", seconds, outcome)
        outcomes.append(moment)
    during = sum("during checkpoint" in m for m in outcomes)
    assert during == sum(kind == "checkpoint" for kind, _ in moments(trials))
    assert trials < 10 or during >= 3


def _undisturbed_replay(wb: Workbench, rest: FlinkRest, events: list[dict[str, Any]]) -> float:
    """Seconds a replay runs with every task up, when nothing is killed: the trials' moments
    are fractions of it (Flink's read counters lag the tasks too much near the end)."""
    job_id = wb.replay(JOB, until="latest", restart=True, watch=False).run.flink_job_id
    while not tasks_running(rest, job_id):
        assert rest.job_state(job_id) != "FINISHED", "the replay finished before it ran"
        time.sleep(0.02)
    began = time.monotonic()
    while rest.job_state(job_id) != "FINISHED":
        time.sleep(0.05)
    span = time.monotonic() - began
    assert_exact(wb.read(JOB, 1).collect(), events)
    return span


@dataclass(frozen=True)
class Missed:
    """A replay that ended before its moment: why, and how long all its tasks ran (when
    it finished by itself)."""

    reason: str
    span: float | None = None


def _trial(
    stack: EmbeddedStack, wb: Workbench, rest: FlinkRest, kind: str, after: float
) -> tuple[str, float] | Missed:
    """One replay, killed at its moment: (the moment, seconds to recover), once it finished.
    Why not, when the replay ended before its moment."""
    job_id = wb.replay(JOB, until="latest", restart=True, watch=False).run.flink_job_id
    killed = _kill_at(stack, rest, job_id, kind, after)
    if isinstance(killed, Missed):
        return killed
    moment, restarts = killed
    began = time.monotonic()
    stack.up()  # a new TaskManager, as `%kappa up` starts it
    failed_over = wait_failed_over(rest, job_id, restarts)
    if failed_over is None:
        return Missed(f"killed {moment}, but its tasks had all finished before")
    assert rest.wait_for_state(job_id, timeout=240) == "FINISHED", rest.root_exception(job_id)
    return moment, time.monotonic() - began + failed_over


def _kill_at(
    stack: EmbeddedStack, rest: FlinkRest, job_id: str, kind: str, after: float
) -> tuple[str, int] | Missed:
    """Wait for the trial's moment (``after`` seconds of every task running, or a checkpoint
    in progress), kill the TaskManager; say what the moment was and how often the job had
    restarted before. What was seen, when the replay finished first."""
    deadline = time.monotonic() + 120
    running_since: float | None = None
    while time.monotonic() < deadline:
        state = rest.job_state(job_id)
        if state == "FINISHED":
            ran = 0.0 if running_since is None else time.monotonic() - running_since
            return Missed(f"finished first ({kind}, aimed {after:.1f} s, ran {ran:.1f} s)", ran)
        assert state != "FAILED", rest.root_exception(job_id)
        if running_since is None and tasks_running(rest, job_id):
            running_since = time.monotonic()
        ran = 0.0 if running_since is None else time.monotonic() - running_since
        if kind == "read" and running_since is not None and ran >= after:
            restarts = rest.restarts(job_id)
            kill(stack, "flink-taskmanager")
            read, done = read_so_far(rest, job_id), completed_checkpoints(rest, job_id)
            said = (
                f"{ran:.1f} s into the replay (aimed {after:.1f} s), {read / EVENTS:.0%} of "
                f"the log read by Flink's count, {done} checkpoint(s) done"
            )
            return said, restarts
        if (
            kind == "checkpoint"
            and (chk := checkpoint_in_progress(rest, job_id))
            and completed_checkpoints(rest, job_id) > 0
        ):
            restarts = rest.restarts(job_id)
            kill(stack, "flink-taskmanager")
            read = read_so_far(rest, job_id)
            return f"during checkpoint {chk}, {read / EVENTS:.0%} of the log read", restarts
        # A checkpoint lasts a few hundred ms: look often. A time: sleep towards it (and
        # spare the JobManager and the two cores the polling).
        time.sleep(0.02 if kind == "checkpoint" else min(0.25, max(0.01, after - ran)))
    raise AssertionError(f"the moment ({kind}, {after:.1f} s) never came")
