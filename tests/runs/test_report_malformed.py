"""The status table: malformed events per run, why Flink keeps restarting a run, and late
records its windows dropped (no I/O)."""

from __future__ import annotations

from kappanb.registry.records import RunRecord
from kappanb.runs.report import RunStatus, StatusReport


def _run(run_id: int, dead_letters: str) -> RunRecord:
    return RunRecord(
        id=run_id, job="daily", version=run_id, mode="live", table=f"daily__v{run_id}",
        group_id="g", start="earliest", until=None, flink_job_id="f" * 32, state="RUNNING",
        started_at="now", dead_letters=dead_letters,
    )  # fmt: skip


def test_status_shows_count_and_topic_or_a_dash_for_fail_fast() -> None:
    rows = [
        RunStatus(_run(1, "orders.dlq"), "http://f", 10, 5, "#1", malformed=3),
        RunStatus(_run(2, ""), "http://f", 10, 5, "#1", malformed=0),
        RunStatus(_run(3, "a.dlq,b.dlq"), "http://f", 10, 5, "#1", malformed=None),
    ]
    assert [r.malformed_text for r in rows] == ["3 → orders.dlq", "-", "? → a.dlq, b.dlq"]
    text = str(StatusReport(rows))
    assert "malformed" in text.splitlines()[0] and "3 → orders.dlq" in text
    assert "3 → orders.dlq" in StatusReport(rows)._repr_html_()


def test_a_run_flink_keeps_restarting_says_why_in_text_and_html() -> None:
    why = "Flink restarted it 3 times from its last checkpoint; last cause: No space left"
    rows = [
        RunStatus(_run(1, ""), "http://f", 10, 5, "#1", failing=why),
        RunStatus(_run(2, ""), "http://f", 10, 5, "#1"),
    ]
    text = str(StatusReport(rows))
    assert f"#1 daily v1: {why}" in text and "#2 daily v2:" not in text
    assert "No space left ⚠" not in text  # the mark is for the HTML form
    assert 'title="Flink restarted it 3 times' in StatusReport(rows)._repr_html_()


def test_a_count_whose_read_did_not_finish_says_it_is_a_lower_bound() -> None:
    row = RunStatus(_run(1, "orders.dlq"), "http://f", 10, 5, "#1", malformed=1234567,
                    malformed_exact=False)  # fmt: skip
    assert row.malformed_text == "at least 1,234,567 → orders.dlq"
    text = str(StatusReport([row]))
    assert "records read" in text and "rows committed" in text


def test_late_records_a_run_dropped_are_said_under_the_table() -> None:
    rows = [
        RunStatus(_run(1, ""), "http://f", 10, 5, "#1", late_dropped=1_250),
        RunStatus(_run(2, ""), "http://f", 10, 5, "#1", late_dropped=0),
    ]
    text = str(StatusReport(rows))
    assert "#1 daily v1: its windows dropped 1,250 late records (not in the output" in text
    assert "#2 daily v2:" not in text  # none dropped: nothing to say
    assert "dropped 1,250 late records" in StatusReport(rows)._repr_html_()


def test_a_late_count_after_a_restart_says_it_starts_there() -> None:
    """Flink's count starts again at 0 when it restarts the job: the line says so."""
    row = RunStatus(_run(1, ""), "http://f", 10, 5, "#1", late_dropped=40,
                    failing="restarted 1 time, last because: TaskManager lost")  # fmt: skip
    assert "dropped 40 late records since Flink last restarted it (not" in str(StatusReport([row]))
