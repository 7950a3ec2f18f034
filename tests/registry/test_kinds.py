from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from kappanb.exceptions import UnknownValueError
from kappanb.registry.kinds import (
    FLINK_JOB_STATES,
    RUN_MODES,
    RUN_STATES,
    flink_job_state,
    job_kind,
    run_mode,
    run_state,
    switch_kind,
)
from kappanb.registry.records import ACTIVE_STATES, RunRecord
from kappanb.registry.store import LocalRegistry


def test_known_values_pass_through_unchanged() -> None:
    assert RUN_MODES == ("live", "replay", "archive")
    assert [run_mode(m) for m in RUN_MODES] == ["live", "replay", "archive"]
    assert job_kind("python") == "python" and switch_kind("first live run") == "first live run"
    assert flink_job_state("RECONCILING") == "RECONCILING"
    assert {"SUBMITTING", "STOPPED", "LOST"} | set(FLINK_JOB_STATES) == set(RUN_STATES)
    assert ACTIVE_STATES.issubset(FLINK_JOB_STATES)


@pytest.mark.parametrize(
    ("narrow", "value", "what"),
    [
        (run_mode, "Live", "run mode"),
        (run_state, "PAUSED", "run state"),
        (flink_job_state, "LOST", "Flink job state"),  # kappanb's own, never Flink's
        (job_kind, "pyflink", "job kind"),
        (switch_kind, "retire", "switch kind"),
    ],
)
def test_an_unknown_value_is_refused_by_name(
    narrow: Callable[[str], str], value: str, what: str
) -> None:
    with pytest.raises(UnknownValueError, match=f"'{value}' is not a {what} "):
        narrow(value)


def test_a_run_row_with_an_unknown_state_is_refused_when_read(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "r.sqlite")
    run = registry.add_run(RunRecord(
        id=0, job="j", version=1, mode="replay", table="j__v1", group_id="g",
        start="earliest", until=None, flink_job_id="abc", state="RUNNING", started_at="now",
    ))  # fmt: skip
    assert (run.mode, run.state) == ("replay", "RUNNING")
    with sqlite3.connect(registry.path) as conn:
        spec = json.dumps({**json.loads(conn.execute("SELECT spec FROM runs").fetchone()[0]),
                           "state": "PAUSED"})  # fmt: skip
        conn.execute("UPDATE runs SET spec = ?", (spec,))
    with pytest.raises(UnknownValueError, match="'PAUSED' is not a run state"):
        registry.runs("j")
