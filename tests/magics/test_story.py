"""The issue's story, driven through `%kappa` in a real IPython shell on the real stack.

v1 (inverted flag) runs live, v2 (fixed) replays from offset 0 beside it; both are
compared, exactly, with an independent Python computation over the same events.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from kappanb.generators import PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.magics.conftest import Magic, fresh_workbench, new_shell
from tests.oracles import daily_payments, eventually

pytestmark = pytest.mark.integration

TOPIC = "story.payments.v1"
JOB = "daily_payments"
SQL = """
-- per day: distinct merchants, payments and amount of {what} payments
SELECT CAST(event_time AS DATE) AS `day`,
       COUNT(DISTINCT merchant_id) AS merchants,
       COUNT(*) AS payments,
       SUM(amount_cents) AS amount
FROM payments
WHERE {condition}
GROUP BY CAST(event_time AS DATE)
"""
V1 = SQL.format(what="captured", condition="NOT captured")  # the bug: inverted flag
V2 = SQL.format(what="captured", condition="captured")


def _after(events: list[dict[str, Any]]) -> datetime:
    return datetime.fromisoformat(events[-1]["event_time"]).replace(tzinfo=UTC)


def table(workbench: Workbench, version: int) -> dict[date, tuple[int, int, int]]:
    frame = workbench.read(JOB, version).collect()
    assert frame.height == frame["day"].n_unique(), "more than one row per key"
    return {r["day"]: (r["merchants"], r["payments"], r["amount"]) for r in frame.to_dicts()}


def wait_equal(workbench: Workbench, version: int, expected: dict[Any, Any]) -> None:
    got = eventually(lambda: table(workbench, version), lambda t: t == expected, timeout=180)
    assert got == expected


def test_live_v1_and_replayed_v2_match_their_oracles(
    kappa: Magic, shell: InteractiveShell, stack: EmbeddedStack
) -> None:
    spec = kappa(f"topic {TOPIC} --schema payments --event-time event_time "
                 "--watermark '30 s' --partitions 2 --table payments")  # fmt: skip
    assert spec.table == "payments" and spec.watermark_ms == 30_000
    events = list(PaymentsGenerator(seed=11, out_of_order=0.05).events(12_000))
    shell.user_ns["first"] = events
    assert kappa(f"produce {TOPIC} first").delivered == 12_000

    v1 = kappa(f'job {JOB} --note "first cut"', V1)
    assert (v1.job_version.version, v1.created, v1.job_version.updating) == (1, True, True)
    assert v1.job_version.key == ("day",)
    live = kappa(f"run {JOB}")
    assert live.run.table == f"{JOB}__v1" and live.run.group_id == f"kappanb.{JOB}.v1"
    assert "/#/job/running/" in live.web_url and len(live.run.flink_job_id) == 32

    v2 = kappa(f'job {JOB} --note "fix inverted flag"', V2)
    assert (v2.job_version.version, v2.created) == (2, True)
    again = kappa(f"job {JOB}", "  " + V2.replace("\n", "\n  ") + ";")  # same normalised text
    assert (again.job_version.version, again.created) == (2, False)
    assert "fix inverted flag" in kappa(f"show {JOB} v2")._repr_html_()

    replay = kappa(f"replay {JOB} v2")
    assert replay.run.table == f"{JOB}__v2" and ".replay-" in replay.run.group_id
    more = list(PaymentsGenerator(seed=12, start=_after(events)).events(3_000))
    shell.user_ns["more"] = more
    kappa(f"produce {TOPIC} more")  # arrives while both run: both must see it

    workbench = fresh_workbench(stack)
    wait_equal(workbench, 2, daily_payments(events + more, captured=True))
    wait_equal(workbench, 1, daily_payments(events + more, captured=False))
    assert table(workbench, 1) != table(workbench, 2)
    states = {(r.version, r.mode): r.state for r in workbench.status(JOB).rows for r in [r.run]}
    assert states == {(1, "live"): "RUNNING", (2, "replay"): "RUNNING"}

    def records(version: int) -> tuple[int | None, int | None]:
        row = next(s for s in workbench.status(JOB).rows if s.run.version == version)
        return row.records_in, row.records_out

    # Flink refreshes metrics every few seconds: every event read, some updates written.
    read, written = eventually(lambda: records(2), lambda r: r[0] == 15_000, timeout=60)
    assert read == 15_000 and written is not None and written > 0

    # A fresh shell and Workbench (a kernel restart) see and control the same runs.
    shell2 = new_shell(fresh_workbench(stack))
    status = shell2.run_line_magic("kappa", f"status {JOB}")
    assert "RUNNING" in str(status) and f"{JOB}__v1" in str(status)
    stopped = shell2.run_line_magic("kappa", f"stop {JOB} v1 --savepoint")
    assert stopped.run.state == "STOPPED" and stopped.run.savepoint
    late = list(PaymentsGenerator(seed=13, start=_after(more)).events(2_000))
    shell2.user_ns["late"] = late
    shell2.run_line_magic("kappa", f"produce {TOPIC} late")
    resumed = shell2.run_line_magic("kappa", f"resume {JOB} v1")
    assert resumed.run.state == "RUNNING" and resumed.run.restored_from == stopped.run.savepoint
    wait_equal(workbench, 1, daily_payments(events + more + late, captured=False))
    # Stopped without a savepoint, v2 resumes from its latest retained checkpoint.
    wait_equal(workbench, 2, daily_payments(events + more + late, captured=True))
    cancelled = shell2.run_line_magic("kappa", f"stop {JOB} v2")
    assert cancelled.run.savepoint is None
    last = list(PaymentsGenerator(seed=14, start=_after(late)).events(1_000))
    shell2.user_ns["last"] = last
    shell2.run_line_magic("kappa", f"produce {TOPIC} last")
    from_checkpoint = shell2.run_line_magic("kappa", f"resume {JOB} v2")
    assert "/chk-" in str(from_checkpoint.run.restored_from)
    wait_equal(workbench, 2, daily_payments(events + more + late + last, captured=True))
    shell2.run_line_magic("kappa", f"stop {JOB} v1")
    shell2.run_line_magic("kappa", f"stop {JOB} v2")
    assert {r.state for r in workbench.runs(JOB)} == {"STOPPED"}
