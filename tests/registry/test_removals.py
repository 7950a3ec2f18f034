"""Scheduled removals of retired tables in the registry: the rules, on the local registry
with a clock the test sets (the contract tests run the clock-free ones on the log too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kappanb.exceptions import RemovalRefusedError
from kappanb.registry import removals
from kappanb.registry.base import Registry
from kappanb.registry.records import Switch
from kappanb.registry.store import LocalRegistry
from tests.registry.test_store import _run

T0 = 1_765_000_000_000
DAY = 86_400_000


class Clock:
    """A registry clock the test moves (milliseconds since the epoch)."""

    def __init__(self, ms: int = T0) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(tmp_path: Path, clock: Clock) -> LocalRegistry:
    return LocalRegistry(tmp_path / "r.sqlite", clock=clock)


def _serve(registry: Registry, *versions: int) -> None:
    """Switch ``j``'s alias through ``versions`` (the first one first)."""
    before = None
    for version in versions:
        registry.switch("j", version, f"j__v{version}", kind="promote", expect_from=before)
        before = version


def test_protection_names_the_served_version_and_the_rollback_target() -> None:
    current = Switch(3, "j", 2, 3, "j__v3", "t", "promote")
    assert "is what readers get" in (removals.protection(current, "j", 3) or "")
    assert "rollback target" in (removals.protection(current, "j", 2) or "")
    assert removals.protection(current, "j", 1) is None
    assert removals.protection(None, "j", 1) is None


def test_a_removal_waits_for_its_grace_period_on_the_registry_clock(
    registry: LocalRegistry, clock: Clock
) -> None:
    _serve(registry, 1, 2, 3)  # serves v3, rollback target v2: v1 may go
    scheduled = registry.schedule_removal("j", 1, "j__v1", 7 * DAY)
    assert (scheduled.state, scheduled.due_ms) == ("scheduled", T0 + 7 * DAY)
    clock.ms = T0 + 7 * DAY - 1
    assert registry.due_removals() == []
    assert registry.claim_removal(scheduled.id).state == "scheduled"  # not due: unchanged
    clock.ms = T0 - DAY  # the clock was set back a day: still not due
    assert registry.due_removals() == []
    assert registry.claim_removal(scheduled.id).state == "scheduled"
    clock.ms = T0 + 7 * DAY
    assert [r.id for r in registry.due_removals()] == [scheduled.id]
    claimed = registry.claim_removal(scheduled.id)
    assert claimed.state == "removing"
    clock.ms += 1000
    done = registry.finish_removal(scheduled.id)
    assert done.state == "removed" and done.done_at == "2025-12-13 05:46:41 UTC"
    assert registry.due_removals() == []  # done: never claimed again
    assert registry.claim_removal(scheduled.id).state == "removed"


def test_scheduling_the_served_table_or_the_rollback_target_is_refused(
    registry: LocalRegistry,
) -> None:
    _serve(registry, 1, 2)
    with pytest.raises(RemovalRefusedError, match=r"is what readers get.*promote another"):
        registry.schedule_removal("j", 2, "j__v2", DAY)
    with pytest.raises(RemovalRefusedError, match=r"rollback target.*nothing was changed"):
        registry.schedule_removal("j", 1, "j__v1", DAY)
    assert registry.removals("j") == []


def test_a_removal_is_called_off_when_its_version_serves_again(
    registry: LocalRegistry, clock: Clock
) -> None:
    _serve(registry, 1, 2, 3)
    first = registry.schedule_removal("j", 1, "j__v1", DAY)
    registry.switch("j", 1, "j__v1", kind="promote", expect_from=3)  # v1 serves again
    clock.ms += DAY
    cancelled = registry.claim_removal(first.id)
    assert cancelled.state == "cancelled" and "is what readers get" in cancelled.note
    registry.switch("j", 2, "j__v2", kind="promote", expect_from=1)  # v1: rollback target
    second = registry.schedule_removal("j", 3, "j__v3", 0)
    registry.switch("j", 1, "j__v1", kind="rollback", expect_from=2)  # back: v2 the target
    assert registry.claim_removal(second.id).state == "removing"  # v3 is neither
    assert [r.state for r in registry.removals("j")] == ["cancelled", "removing"]


def test_a_removal_is_called_off_while_a_run_writes_to_the_table(
    registry: LocalRegistry, clock: Clock
) -> None:
    _serve(registry, 1, 2, 3)
    run = registry.add_run(_run("j", 1, state="RUNNING"))
    scheduled = registry.schedule_removal("j", 1, run.table, 0)
    claimed = registry.claim_removal(scheduled.id)
    assert claimed.state == "cancelled" and f"run #{run.id} writes to" in claimed.note


def test_scheduling_again_replaces_the_pending_removal(registry: LocalRegistry) -> None:
    _serve(registry, 1, 2, 3)
    first = registry.schedule_removal("j", 1, "j__v1", 7 * DAY)
    second = registry.schedule_removal("j", 1, "j__v1", DAY)
    found = registry.removals("j")
    assert [(r.id, r.state) for r in found] == [(first.id, "cancelled"), (second.id, "scheduled")]
    assert found[0].note == "replaced by a later schedule"
    assert registry.removals("other") == []


# ---- the rules every registry keeps, without a clock (the log's is the broker's) ---------


def test_a_removal_due_at_once_goes_through_claim_and_finish(registry: Registry) -> None:
    _serve(registry, 1, 2, 3)
    scheduled = registry.schedule_removal("j", 1, "j__v1", 0)
    assert [r.id for r in registry.due_removals()] == [scheduled.id]
    assert registry.claim_removal(scheduled.id).state == "removing"
    done = registry.finish_removal(scheduled.id)
    assert done.state == "removed" and done.done_at
    assert registry.removals("j") == [done]


def test_a_removal_a_week_away_is_not_claimed(registry: Registry) -> None:
    _serve(registry, 1, 2, 3)
    scheduled = registry.schedule_removal("j", 1, "j__v1", 7 * DAY)
    assert registry.due_removals() == []
    assert registry.claim_removal(scheduled.id).state == "scheduled"
    assert registry.finish_removal(scheduled.id).state == "scheduled"  # never claimed


def test_a_refused_schedule_records_nothing(registry: Registry) -> None:
    _serve(registry, 1, 2)
    for version in (1, 2):
        with pytest.raises(RemovalRefusedError):
            registry.schedule_removal("j", version, f"j__v{version}", 0)
    assert registry.removals() == []
