"""What promote, retire, history, sweep and stop show: one line for a terminal, a table
for a notebook (no I/O)."""

from __future__ import annotations

from dataclasses import replace

from kappanb.registry.kinds import RemovalState
from kappanb.registry.records import Removal, RunRecord, Switch
from kappanb.runs.report import RunHandle
from kappanb.serving.removal import Swept
from kappanb.serving.serving import Retired, Switched, SwitchHistory

SAVEPOINT = "file:/tmp/home/flink/savepoints/daily-v1-run1/savepoint-999779-ff13da26260b"


def test_promote_echoes_its_reason() -> None:
    switch = Switch(3, "daily", 1, 2, "daily__v2", "", "promote", reason="fix inverted flag")
    said = Switched(switch)
    assert str(said).endswith("was v1: promote; reason: fix inverted flag")
    html = said._repr_html_()
    assert "<table" in html and ">fix inverted flag</td>" in html and "<pre" not in html
    quiet = Switched(Switch(4, "daily", 2, 1, "daily__v1", "", "rollback"))
    assert "reason" not in str(quiet)


def test_retire_is_a_table_whose_paths_break_only_at_slashes() -> None:
    said = Retired("daily", 1, [(1, SAVEPOINT)], ["daily__v1"])
    assert str(said) == (
        f"retired daily v1: stopped run #1 with savepoint {SAVEPOINT}; "
        "kept daily__v1 (a rollback target)"
    )
    html = said._repr_html_()
    assert "<pre" not in html and html.count("<tr>") == 3
    assert "/<wbr>savepoint-999779-ff13da26260b</code>" in html
    assert ">dropped</td>" in Retired("daily", 1, [], ["daily__v1"], dropped=True)._repr_html_()


def test_a_stopped_run_shows_its_savepoint_in_the_table_not_the_heading() -> None:
    run = RunRecord(1, "daily", 1, "live", "daily__v1", "kappanb.daily.v1", "earliest", None,
                    "f" * 32, "STOPPED", "", savepoint=SAVEPOINT)  # fmt: skip
    handle = RunHandle(run, "http://127.0.0.1:8081/#/job/f", "stopped daily v1 with a savepoint")
    html = handle._repr_html_()
    assert html.startswith("<b>stopped daily v1 with a savepoint</b><table")
    assert ">savepoint</th>" in html and "/<wbr>daily-v1-run1/<wbr>" in html
    assert str(handle).endswith(f"\n  savepoint {SAVEPOINT}")


def _removal(state: RemovalState, note: str = "", done_at: str | None = None) -> Removal:
    due = 1_765_000_000_000 + 7 * 86_400_000
    return Removal(4, "daily", 1, "daily__v1", "2025-12-06 05:46:40 UTC", due, state,
                   done_at, note)  # fmt: skip


def test_retire_with_a_grace_period_says_until_when_the_table_is_kept() -> None:
    said = Retired("daily", 1, [], ["daily__v1"], removals=[_removal("scheduled")])
    assert str(said) == (
        "retired daily v1: kept daily__v1 until 2025-12-13 05:46:40 UTC, then `sweep` removes "
        "it (unless served or rollback target then)"
    )
    assert "kept until 2025-12-13 05:46:40 UTC" in said._repr_html_()


def test_history_lists_the_removals_after_the_switches() -> None:
    switches = [Switch(1, "daily", None, 1, "daily__v1", "t0", "first live run"),
                Switch(2, "daily", 1, 2, "daily__v2", "t1", "promote")]  # fmt: skip
    gone = _removal("removed", done_at="2025-12-13 06:00:00 UTC")
    history = SwitchHistory("daily", switches, [gone])
    text = str(history)
    assert text.index("promote") < text.index("removals of retired tables")
    assert "2025-12-13 06:00:00 UTC" in text and "removed" in text
    assert history._repr_html_().count("<table") == 2
    assert "removals" not in str(SwitchHistory("daily", switches))


def test_a_sweep_says_what_it_removed_kept_and_left_waiting() -> None:
    kept = replace(_removal("cancelled", "daily v1 is what readers get: kept"), id=5)
    swept = Swept([_removal("removed")], [kept], [replace(_removal("scheduled"), id=6)])
    assert swept.lines() == [
        "removed daily__v1 (daily v1, retired 2025-12-06 05:46:40 UTC)",
        "kept daily__v1: daily v1 is what readers get: kept",
        "daily__v1 is removed after 2025-12-13 05:46:40 UTC",
    ]
    assert swept._repr_html_().count("<tr>") == 4  # the heading and three removals
    assert str(Swept()) == "no retired table is scheduled for removal"
