"""Old tables go away when it is safe, on the real stack: a retired table scheduled for
removal is dropped from the Iceberg catalog once its grace period has passed on the
registry's clock (which the test moves: no week of sleeping), never before, never while
it serves or is the rollback target; refusals change nothing; `history` lists it all."""

from __future__ import annotations

import pytest

from kappanb.exceptions import PromoteError, RemovalRefusedError
from kappanb.registry.store import LocalRegistry
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import DEFAULT_NAMESPACE, open_catalog, table_exists
from kappanb.workbench import Workbench
from tests.commands.test_bad_input import registry_rows
from tests.magics.conftest import fresh_workbench
from tests.registry.test_removals import Clock
from tests.serving.test_serving import SQL, declare

pytestmark = pytest.mark.integration

DAY = 86_400_000
JOB = "removal_daily"


def _three_versions(wb: Workbench) -> None:
    """v1, v2, v3 of the job, each replayed to the end of the log; v3 served, v2 the
    rollback target."""
    declare(wb, "removal.payments.v1", "removal_payments", 2_000, seed=73)
    for flag in ("NOT captured", "captured", "amount_cents > 100"):
        wb.job(JOB, SQL.format(table="removal_payments", flag=flag))
    for version in (1, 2, 3):
        handle = wb.replay(JOB, version, until="latest")
        assert handle.wait(timeout=180) and handle.finished
    for version in (1, 2, 3):
        wb.promote(JOB, version)  # finished bounded replays: no --force needed


def _listed(stack: EmbeddedStack) -> set[str]:
    """The tables the Iceberg catalog lists, as any other reader finds them."""
    catalog = open_catalog(stack.endpoints().catalog)
    return {name for _, name in catalog.list_tables(DEFAULT_NAMESPACE)}


def test_a_retired_table_goes_after_its_grace_period_and_never_while_it_serves(
    stack: EmbeddedStack,
) -> None:
    wb = fresh_workbench(stack)
    _three_versions(wb)
    registry = wb.registry
    assert isinstance(registry, LocalRegistry)
    clock = Clock(registry.clock())
    registry.clock = clock
    start = clock.ms
    catalog = stack.endpoints().catalog
    table = {v: f"{JOB}__v{v}" for v in (1, 2, 3)}
    assert {table[1], table[2], table[3]} <= _listed(stack)

    # the served version and the rollback target: refused, and nothing changes
    before = registry_rows(registry.path)
    with pytest.raises(PromoteError, match="is what readers get: promote another version"):
        wb.retire(JOB, 3, remove_after="7d")
    with pytest.raises(RemovalRefusedError, match=r"v2 is the rollback target .* promote"):
        wb.retire(JOB, 2, remove_after="7d")
    with pytest.raises(RemovalRefusedError, match=r"rollback target.*nothing dropped.* --drop`"):
        wb.retire(JOB, 2, drop=True)
    assert registry_rows(registry.path) == before and registry.removals(JOB) == []
    assert {table[1], table[2], table[3]} <= _listed(stack)

    # scheduled, then served again before it was due: the sweep calls it off
    first = wb.retire(JOB, 1, remove_after="1d").removals
    assert [(r.table, r.due_ms) for r in first] == [(table[1], start + DAY)]
    wb.promote(JOB, 1)  # serves v1 again; v3 becomes the rollback target, v2 is free
    clock.ms = start + DAY
    swept = wb.sweep()
    assert [r.table for r in swept.cancelled] == [table[1]] and not swept.removed
    assert "is what readers get" in str(swept) and table_exists(catalog, table[1])
    with pytest.raises(RemovalRefusedError, match="rollback target"):
        wb.retire(JOB, 3, remove_after="7d")

    # scheduled for a week: not a second early, not when the clock is set back
    wb.retire(JOB, 2, remove_after="7d")
    clock.ms = start + 8 * DAY - 1
    assert wb.sweep().removed == [] and table_exists(catalog, table[2])
    clock.ms = start - 2 * DAY
    waiting = wb.sweep()
    assert waiting.removed == [] and table_exists(catalog, table[2])
    assert [r.table for r in waiting.waiting] == [table[2]]
    clock.ms = start + 8 * DAY
    swept = wb.sweep()
    assert [r.table for r in swept.removed] == [table[2]]
    assert not table_exists(catalog, table[2]) and table[2] not in _listed(stack)
    assert {table[1], table[3]} <= _listed(stack)  # served and rollback target stay
    assert wb.sweep().removed == []  # done once

    removals = wb.history(JOB).removals
    assert [(r.table, r.state) for r in removals] == [
        (table[1], "cancelled"), (table[2], "removed")
    ]  # fmt: skip
    history = str(wb.history(JOB))
    assert "removals of retired tables" in history and "removed" in history
    assert removals[1].done_at is not None and removals[1].done_at in history
