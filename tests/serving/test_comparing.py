"""`diff` on real outputs: a deduplicating fix against the buggy live version, first on a
recent window (the recommended practice), then after the full replay. The oracle says
exactly which days differ and by how much."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest

from kappanb.exceptions import CompareError
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from tests.magics.conftest import fresh_workbench

pytestmark = pytest.mark.integration

TOPIC = "compare.payments.v1"
V1 = "SELECT CAST(event_time AS DATE) AS `day`, COUNT(*) AS payments FROM compare_payments "
V2 = "SELECT CAST(event_time AS DATE) AS `day`, COUNT(DISTINCT payment_id) AS payments FROM "


def batch(seed: int, start: datetime, count: int) -> list[dict[str, Any]]:
    generator = PaymentsGenerator(seed=seed, start=start, events_per_day=2_000, bug=True,
                                  duplicate_share=0.0007)  # fmt: skip
    return list(generator.events(count))


def per_day(events: list[dict[str, Any]], distinct: bool) -> dict[date, int]:
    days: Counter[date] = Counter()
    seen: set[tuple[date, str]] = set()  # COUNT(DISTINCT payment_id) is per day
    for e in events:
        day = datetime.fromisoformat(e["event_time"]).date()
        if distinct and (day, e["payment_id"]) in seen:
            continue
        seen.add((day, e["payment_id"]))
        days[day] += 1
    return dict(days)


def check(diff: Any, events: list[dict[str, Any]]) -> None:
    old, new = per_day(events, False), per_day(events, True)
    # Days the live version's watermark has not passed are not final: set apart, not
    # compared (the last days here, as no later events arrive to move the watermark on).
    pending = {*diff.pending_old["day"].to_list(), *diff.pending_new["day"].to_list()}
    days = set(old) - pending
    assert days and (not pending or min(pending) > max(days)), (sorted(days), pending)
    if pending:
        assert "not compared" in diff.summary()
    differ = {d for d in days if old[d] != new[d]}
    assert differ and differ != days  # the oracle has both changed and identical days
    changed = {row["day"]: row for row in diff.changed.iter_rows(named=True)}
    assert set(changed) == differ
    for day, row in changed.items():
        assert (row["payments_old"], row["payments_new"]) == (old[day], new[day])
        assert row["payments_delta"] == new[day] - old[day]
    assert diff.same_count == len(days - differ)
    assert diff.only_old.height == 0 and diff.only_new.height == 0
    assert f"{len(differ)} keys differ" in diff.summary()


def test_verify_on_a_window_then_replay_everything(stack: EmbeddedStack) -> None:
    wb = fresh_workbench(stack)
    # Keyed by payment, so every partition gets recent events and the watermark (the
    # minimum over partitions) moves on; unkeyed batches can fill one partition only.
    wb.topic(TOPIC, PAYMENTS_SCHEMA, partitions=2, table="compare_payments",
             event_time="event_time", watermark="30 s", key="payment_id")  # fmt: skip
    early = batch(81, datetime(2026, 3, 1, tzinfo=UTC), 14_000)
    wb.produce(TOPIC, early)
    time.sleep(1.1)
    recent_since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")  # record time, not event
    time.sleep(1.1)
    recent = batch(82, datetime(2026, 3, 20, tzinfo=UTC), 10_000)
    wb.produce(TOPIC, recent)
    job = "compare_daily"
    wb.job(job, V1 + "GROUP BY CAST(event_time AS DATE)")
    live = wb.run(job)
    wb.job(job, V2 + "compare_payments GROUP BY CAST(event_time AS DATE)", note="dedupe")
    try:
        assert live.wait(timeout=120)
        window = wb.replay(job, 2, start=recent_since, until="latest")
        assert window.wait(timeout=120) and window.finished
        first_recent_day = min(per_day(recent, False))
        on_window = wb.diff(job, 1, 2, where=f"day >= DATE '{first_recent_day}'")
        check(on_window, recent)  # the window alone, compared where both have it
        with pytest.raises(CompareError, match="DATE '2026-03-04'"):
            wb.diff(job, 1, 2, where="day >= '2026-03-20'")

        full = wb.replay(job, 2, restart=True)  # then the whole log, from offset 0
        assert full.wait(timeout=120) and full.caught_up
        everything = wb.diff(job, 1, 2)
        check(everything, early + recent)
        assert "only in" in everything._repr_html_() or "changed" in everything._repr_html_()
        spec = everything.chart().to_dict()
        assert "layer" in spec or "mark" in spec
        with pytest.raises(CompareError, match="itself"):
            wb.diff(job, 2, 2)
    finally:
        for run in wb.runs(job):
            if run.active:
                wb.stop(job, run.version)
