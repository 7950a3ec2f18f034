"""The serving alias on the real stack: promote, rollback, history, retire, readers."""

from __future__ import annotations

import threading

import polars as pl
import pytest

from kappanb.exceptions import CompareError, PromoteError
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.serving.serving import Serving
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import serving_table, table_exists
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench

pytestmark = pytest.mark.integration

SQL = (
    "SELECT CAST(event_time AS DATE) AS `day`, COUNT(*) AS payments "
    "FROM {table} WHERE {flag} GROUP BY CAST(event_time AS DATE)"
)


def declare(workbench: Workbench, topic: str, table: str, events: int, seed: int) -> None:
    workbench.topic(topic, PAYMENTS_SCHEMA, partitions=2, table=table,
                    event_time="event_time", watermark="30 s")  # fmt: skip
    workbench.produce(topic, PaymentsGenerator(seed=seed).events(events))


def test_promote_rollback_history_and_retire(stack: EmbeddedStack) -> None:
    wb = fresh_workbench(stack)
    declare(wb, "serving.payments.v1", "serving_payments", 20_000, seed=71)
    job = "served_daily"
    wb.job(job, SQL.format(table="serving_payments", flag="NOT captured"))
    live = wb.run(job)
    assert wb.serving(job) == 1  # the first live run serves
    wb.job(job, SQL.format(table="serving_payments", flag="captured"))
    try:
        bounded = wb.replay(job, 2, until="latest")
        with pytest.raises(PromoteError, match="bounded replay that has not finished"):
            wb.promote(job, 2)
        assert wb.serving(job) == 1  # refused: nothing switched
        forced = wb.promote(job, 2, force=True, reason="looks right")
        assert forced.switch.forced and wb.serving(job) == 2
        assert wb.rollback(job, reason="not yet").switch.to_version == 1
        assert bounded.wait(timeout=120) and bounded.finished
        assert wb.promote(job, 2).switch.from_version == 1  # finished: no --force needed

        with pytest.raises(PromoteError, match="is what readers get"):
            wb.retire(job, 2, drop=True)
        with pytest.raises(PromoteError, match="already serves v2"):
            wb.promote(job, 2)

        assert live.wait(timeout=120) and live.caught_up
        wb.job(job, SQL.format(table="serving_payments", flag="captured AND amount_cents > 0"))
        unbounded = wb.replay(job, 3)
        impatient = Serving(wb._control(), settle_seconds=0.5)  # the job is still starting
        with pytest.raises(PromoteError, match="has not caught up"):
            impatient.promote(job, 3, wb.registry.serving(job))
        assert unbounded.wait(timeout=120) and unbounded.caught_up
        assert "promote" in str(wb.promote(job, 3))  # caught up: sampled and allowed
        wb.stop(job, 3)
        assert wb.rollback(job).switch.to_version == 2
        with pytest.raises(PromoteError, match="STOPPED"):
            wb.promote(job, 3)
        assert wb.serving(job) == 2
        wb.rollback(job)
        assert wb.serving(job) == 3  # rollback returns to the version the current replaced
        wb.rollback(job)
        said = wb.retire(job, 1)  # v1 still runs live; v2 serves
        assert "savepoint" in str(said) and "kept served_daily__v1" in str(said)
        table_v1 = wb.runs(job)[0].table
        assert table_exists(stack.endpoints().catalog, table_v1)  # kept as a rollback target
        said = wb.retire(job, 1, drop=True)
        assert not table_exists(stack.endpoints().catalog, table_v1)
        with pytest.raises(PromoteError, match="was dropped"):
            wb.promote(job, 1, force=True)
        with pytest.raises(CompareError, match="was dropped"):
            wb.diff(job, 1, 2)

        kinds = [(s.kind, s.from_version, s.to_version) for s in wb.history(job).switches]
        assert kinds == [
            ("first live run", None, 1), ("promote", 1, 2), ("rollback", 2, 1),
            ("promote", 1, 2), ("promote", 2, 3), ("rollback", 3, 2), ("rollback", 2, 3),
            ("rollback", 3, 2),
        ]  # fmt: skip
        history = str(wb.history(job))
        assert "(forced)" in history and "looks right" in history
        current = wb.registry.serving(job)
        assert current is not None
        assert serving_table(stack.endpoints().catalog, job) == current.table  # for other tools
    finally:
        for run in wb.runs(job):
            if run.active:
                wb.stop(job, run.version)


def test_readers_see_one_version_or_the_other_never_a_mix(stack: EmbeddedStack) -> None:
    wb = fresh_workbench(stack)
    declare(wb, "atomic.payments.v1", "atomic_payments", 20_000, seed=72)
    job = "atomic_daily"
    for flag in ("NOT captured", "captured"):
        wb.job(job, SQL.format(table="atomic_payments", flag=flag))
    for version in (1, 2):
        assert wb.replay(job, version, until="latest").wait(timeout=120)
    outputs = {v: wb.read(job, v).collect().sort("day") for v in (1, 2)}
    assert not outputs[1].equals(outputs[2])  # two different contents to tell apart
    wb.promote(job, 1)
    stop = threading.Event()
    seen: list[int] = []
    mixed: list[pl.DataFrame] = []

    def reader() -> None:
        while not stop.is_set():
            frame = wb.read(job).collect().sort("day")
            match = [v for v, out in outputs.items() if frame.equals(out)]
            (seen.extend(match) if match else mixed.append(frame))

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for _ in range(6):
            wb.promote(job, 2)
            wb.rollback(job)
    finally:
        stop.set()
        for thread in readers:
            thread.join(60)
    assert not mixed, mixed[:1]
    assert set(seen) == {1, 2} and len(seen) >= 10  # both versions were read, many times
    assert len(wb.history(job).switches) == 13
