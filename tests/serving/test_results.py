"""What promote, retire and stop show: one line for a terminal, a table for a notebook
(no I/O)."""

from __future__ import annotations

from kappanb.registry.records import RunRecord, Switch
from kappanb.runs.report import RunHandle
from kappanb.serving.serving import Retired, Switched

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
