"""`kappanb demo` tells the metric-bug story end to end and ends with a report."""

from __future__ import annotations

import pytest

from kappanb.cli import main
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_reports_the_story_and_runs_again(
    stack: EmbeddedStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAPPANB_HOME", str(stack.settings.home))
    monkeypatch.setenv("KAPPANB_CHECKPOINT_INTERVAL", "2 s")  # caught up = committed: sooner
    # --keep: the test session's stack stays up for the other tests.
    assert main(["demo", "--events", "100000", "--keep"]) == 0
    out = capsys.readouterr().out
    assert "events in demo.payments.v1: 100,000 (100,000 produced now)" in out
    assert "v2 (fix) replayed from offset 0 and caught up in" in out
    assert "keys differ, max |Δ amount_cents|" in out and "serving now: v2" in out
    assert "kappanb history demo_daily_captured" in out
    wb = Workbench(stack.settings, auto_up=False)
    assert wb.serving("demo_daily_captured") == 2
    served = [r for r in wb.runs("demo_daily_captured") if r.version == 2 and r.active]
    ui_line = next(line for line in out.splitlines() if "Flink web UI" in line)
    assert len(served) == 1 and served[0].flink_job_id in ui_line, ui_line  # not v1's job
    assert main(["demo", "--events", "100000", "--keep"]) == 0  # again: no new events
    again = capsys.readouterr().out
    assert "events in demo.payments.v1: 100,000 (from before)" in again
    assert "serving now: v2" in again
    kinds = [s.kind for s in wb.history("demo_daily_captured").switches]
    assert kinds == ["first live run", "promote", "promote", "promote"]
    for run in wb.runs("demo_daily_captured"):
        if run.active:
            wb.stop("demo_daily_captured", run.version)
