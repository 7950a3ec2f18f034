"""Two notebooks (two Workbench objects on one home) replaying or promoting the same job at
the same moment: one goes ahead, the other is refused with what to do, and the registry,
Flink and the catalog end consistent (one run, one serving switch)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kappanb.exceptions import JobBusyError, KappaError, PromoteError, RunConflictError
from kappanb.flink.rest import FlinkRest
from kappanb.generators import PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import serving_table
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench

pytestmark = [pytest.mark.integration, pytest.mark.faults]

JOB = "conc_counts"


def at_once(call: Callable[[Workbench], Any], notebooks: list[Workbench]) -> list[Any]:
    """``call`` in each notebook from its own thread, released together; each one's
    result or the KappaError it raised."""
    barrier = threading.Barrier(len(notebooks))
    outcomes: list[Any] = [None] * len(notebooks)

    def one(i: int) -> None:
        barrier.wait(10)
        try:
            outcomes[i] = call(notebooks[i])
        except KappaError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(notebooks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return outcomes


@pytest.fixture(scope="module")
def notebooks(stack: EmbeddedStack) -> Iterator[list[Workbench]]:
    first, second = fresh_workbench(stack), fresh_workbench(stack)
    first.topic("conc.pay.v1", "payments", event_time="event_time", table="conc_pay")
    first.produce("conc.pay.v1", list(PaymentsGenerator(seed=9).events(100)))
    counts = "SELECT merchant_id, COUNT(*) AS n FROM conc_pay GROUP BY merchant_id"
    first.job(JOB, counts)
    first.job(JOB, counts.replace("COUNT(*)", "SUM(amount_cents)"))
    yield [first, second]


def test_two_replays_of_one_job_at_once_make_one_run(
    notebooks: list[Workbench], stack: EmbeddedStack
) -> None:
    rest = FlinkRest(stack.endpoints().flink_rest_url)
    outcomes = at_once(lambda wb: wb.replay(JOB, 2, until="latest", watch=False), notebooks)
    started = [o for o in outcomes if not isinstance(o, KappaError)]
    refused = [o for o in outcomes if isinstance(o, KappaError)]
    assert len(started) == 1 and len(refused) == 1, outcomes
    # Refused while the other held the job, or (if it was that quick) after it had started.
    assert isinstance(refused[0], JobBusyError | RunConflictError), refused[0]
    assert "try again" in str(refused[0]) or "--restart" in str(refused[0])
    runs = notebooks[1].runs(JOB)
    assert [(r.version, r.mode, r.flink_job_id) for r in runs] == [
        (2, "replay", started[0].run.flink_job_id)
    ]
    submitted = [j for j in rest.jobs() if f"{JOB} v2" in str(j.get("name", ""))]
    assert [j["jid"] for j in submitted] == [started[0].run.flink_job_id]
    assert rest.wait_for_state(started[0].run.flink_job_id, timeout=90) == "FINISHED"


def test_two_promotes_of_one_job_at_once_switch_once(
    notebooks: list[Workbench], stack: EmbeddedStack
) -> None:
    first = notebooks[0]
    if not first.runs(JOB):  # on its own, without the replay test before it
        handle = first.replay(JOB, 2, until="latest", watch=False)
        FlinkRest(stack.endpoints().flink_rest_url).wait_for_state(
            handle.run.flink_job_id, timeout=90
        )
    outcomes = at_once(lambda wb: wb.promote(JOB, 2, reason="concurrent"), notebooks)
    switched = [o for o in outcomes if not isinstance(o, KappaError)]
    refused = [o for o in outcomes if isinstance(o, KappaError)]
    assert len(switched) == 1 and len(refused) == 1, outcomes
    assert isinstance(refused[0], JobBusyError | PromoteError), refused[0]
    message = str(refused[0])
    assert (
        "wait for it to finish" in message
        or "already serves v2" in message
        or "try again" in message
    ), message
    history = first.registry.switches(JOB)
    assert [(s.from_version, s.to_version, s.kind) for s in history] == [(None, 2, "promote")]
    assert first.serving(JOB) == 2
    assert serving_table(stack.endpoints().catalog, JOB) == f"{JOB}__v2"


@pytest.mark.parametrize(
    "command",
    [
        lambda wb: wb.replay(JOB, 1, until="latest", watch=False),
        lambda wb: wb.run(JOB, 1, watch=False),
        lambda wb: wb.stop(JOB, 1),
        lambda wb: wb.resume(JOB, 1),
        lambda wb: wb.promote(JOB, 1),
        lambda wb: wb.retire(JOB, 1),
    ],
    ids=["replay", "run", "stop", "resume", "promote", "retire"],
)
def test_every_command_that_changes_a_job_waits_for_none_and_starts_nothing(
    notebooks: list[Workbench], stack: EmbeddedStack, command: Callable[[Workbench], Any]
) -> None:
    """While another notebook holds the job (here: this test, in the middle of a promote),
    each such command is refused at once, before it submits, stops or switches anything."""
    first, second = notebooks
    rest = FlinkRest(stack.endpoints().flink_rest_url)

    def state() -> tuple[Any, ...]:
        return first.runs(JOB), first.registry.switches(JOB), {j["jid"] for j in rest.jobs()}

    before = state()
    with first.registry.job_lock(JOB, f"promote {JOB} v2"), pytest.raises(JobBusyError) as refused:
        command(second)
    message = str(refused.value)
    assert f"another command is changing job {JOB} right now (`promote {JOB} v2`, pid" in message
    assert f"wait for it to finish, look at `status {JOB}`, then try again" in message
    assert state() == before
