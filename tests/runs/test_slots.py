"""Task slots: `run`, `replay` and `resume` refuse a parallelism above the free slots,
naming who holds them and what to do; checked before anything is created."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from kappanb.exceptions import RunConflictError, StackNotRunningError, TaskSlotsBusyError
from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.runs.control import RunControl
from kappanb.runs.slots import SlotHolder, describe_holders
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import table_exists
from tests.faults.recovery import completed_checkpoints
from tests.magics.conftest import fresh_workbench
from tests.runs.test_lifecycle import JobsRest, run


class NamedJobsRest(JobsRest):
    def jobs(self) -> list[dict[str, str]]:
        return [{**job, "name": f"pipeline {job['jid']}"} for job in super().jobs()]


def control_over(slots: int, jobs: dict[str, tuple[str, list[int]]]) -> RunControl:
    """A RunControl whose Flink has ``slots`` and ``jobs``; kappanb knows runs f1 and f2."""
    runs = [run(1, "daily", 1, "RUNNING"), run(2, "daily", 2, "RUNNING")]
    registry: Any = SimpleNamespace(runs=lambda _job: runs)
    launcher: Any = SimpleNamespace(rest=NamedJobsRest(slots, jobs))
    return RunControl(registry, launcher, endpoints=None)  # type: ignore[arg-type]


def test_a_parallelism_above_the_free_slots_is_refused_naming_who_holds_them() -> None:
    control = control_over(4, {"f1": ("RUNNING", [1]), "f2": ("RUNNING", [2, 1]),
                               "x9": ("RUNNING", [1]), "old": ("FINISHED", [4])})  # fmt: skip
    with pytest.raises(TaskSlotsBusyError) as info:
        control.check_slots(2, "replay a v1 --parallelism 2")
    message = str(info.value)
    assert message.startswith("replay a v1 --parallelism 2 needs 2 task slots, and 0 of")
    assert "daily v1 (live, run #1) holds 1; daily v2 (live, run #2) holds 2" in message
    assert "Flink job 'pipeline x9' (x9, not kappanb's) holds 1" in message
    assert "ask for a lower --parallelism" in message and "`up --slots 6`" in message


def test_one_slot_is_checked_too_and_a_restart_counts_the_slots_it_frees() -> None:
    control = control_over(4, {"f1": ("RUNNING", [2]), "f2": ("RUNNING", [2])})
    with pytest.raises(TaskSlotsBusyError, match=r"^run a v1 needs 1 task slot, and 0 of"):
        control.check_slots(1, "run a v1")
    releasing = [run(2, "daily", 2, "RUNNING")]  # --restart of daily v2 stops f2 first
    control.check_slots(2, "replay daily v2 --parallelism 2", releasing=releasing)
    with pytest.raises(TaskSlotsBusyError, match="2 of the cluster's 4 are free"):
        control.check_slots(3, "replay daily v2 --parallelism 3", releasing=releasing)


def test_resume_says_its_parallelism_is_the_runs_own() -> None:
    control = control_over(4, {"f1": ("RUNNING", [3])})
    with pytest.raises(TaskSlotsBusyError) as info:
        control.check_slots(2, "resume daily v2 (parallelism 2, as it ran)")
    assert "1 of the cluster's 4 is free: daily v1 (live, run #1) holds 3" in str(info.value)
    assert "lower --parallelism" not in str(info.value)


def test_more_than_the_cluster_has_or_no_task_manager_say_so() -> None:
    with pytest.raises(RunConflictError, match="cluster has 4: use at most 4"):
        control_over(4, {}).check_slots(5, "run a v1 --parallelism 5")
    with pytest.raises(StackNotRunningError, match="TaskManager is not running"):
        control_over(0, {}).check_slots(1, "run a v1")


def test_holders_kappanb_does_not_know_are_named_by_flink() -> None:
    holders = [SlotHolder("f1", "kappanb daily v1 live", 1), SlotHolder("abcdef0123", "etl", 2)]
    assert describe_holders(holders, [run(1, "daily", 1, "RUNNING")]) == [
        "daily v1 (live, run #1) holds 1",
        "Flink job 'etl' (abcdef01, not kappanb's) holds 2",
    ]


@pytest.mark.integration
def test_on_the_real_cluster_busy_slots_refuse_a_replay_and_a_resume(
    idle_stack: EmbeddedStack,
) -> None:
    """3 of 4 slots held by a live run: a replay at parallelism 2 is refused before it
    creates a run, a table or a consumer group; later a resume that no longer fits is
    refused and its run left as it was."""
    wb = fresh_workbench(idle_stack)
    wb.topic("slots.payments.v1", PAYMENTS_SCHEMA, partitions=4, table="slots_payments",
             event_time="event_time", key="payment_id")  # fmt: skip
    wb.produce("slots.payments.v1", list(PaymentsGenerator(seed=3).events(2_000)))
    wb.job("slot_hog", "SELECT payment_id, amount_cents FROM slots_payments")
    wb.job("slot_wide", "SELECT payment_id FROM slots_payments WHERE captured")
    rest = FlinkRest(idle_stack.endpoints().flink_rest_url)
    total = int(rest.overview()["slots-total"])
    hog = wb.run("slot_hog", parallelism=total - 1, watch=False)
    wide = None
    try:
        with pytest.raises(TaskSlotsBusyError) as info:
            wb.replay("slot_wide", parallelism=2, watch=False)
        message = str(info.value)
        print(message)
        assert f"1 of the cluster's {total} is free" in message
        assert f"slot_hog v1 (live, run #{hog.run.id}) holds {total - 1}" in message
        assert f"`up --slots {total + 1}`" in message and "Nothing was started" in message
        assert wb.runs("slot_wide") == []
        assert not table_exists(idle_stack.endpoints().catalog, "slot_wide__v1")
        admin = AdminClient({"bootstrap.servers": idle_stack.endpoints().bootstrap_servers})
        groups = admin.list_consumer_groups().result(timeout=30).valid
        assert not [g.group_id for g in groups if "slot_wide" in g.group_id]

        deadline = time.monotonic() + 180  # a savepoint needs every task running
        while completed_checkpoints(rest, hog.run.flink_job_id) < 1:
            assert time.monotonic() < deadline, "slot_hog never completed a checkpoint"
            time.sleep(0.5)
        wb.stop("slot_hog", 1, savepoint=True)
        wide = wb.run("slot_wide", parallelism=2, watch=False)
        with pytest.raises(TaskSlotsBusyError) as info:
            wb.resume("slot_hog", 1)
        message = str(info.value)
        print(message)
        assert message.startswith(f"resume slot_hog v1 (parallelism {total - 1}, as it ran)")
        assert f"slot_wide v1 (live, run #{wide.run.id}) holds 2" in message
        assert [r.state for r in wb.runs("slot_hog")] == ["STOPPED"]
    finally:
        for name, handle in (("slot_hog", hog), ("slot_wide", wide)):
            if handle is not None and any(r.active for r in wb.runs(name)):
                wb.stop(name, 1)
