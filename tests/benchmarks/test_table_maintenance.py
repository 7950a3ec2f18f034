"""The table-maintenance benchmark's measurement, small, on the session's stack: both aged
tables reach the oracle, the compacted one has fewer files and, just compacted, one data
file and no delete file, and every figure is there."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.table_maintenance import measure, summary
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench

pytestmark = pytest.mark.integration


def test_a_small_run_measures_both_tables_against_a_fresh_one(
    stack: EmbeddedStack,
) -> None:
    wb = Workbench(replace(stack.settings, checkpoint_interval="1 s"), auto_up=False)
    result = measure(wb, commits=9, compact_every=4, reads=3)
    assert result["compactions"] == 3 and result["events"] == 200 + 9 * 40  # at 4, 8 and the end
    assert result["on_commits_since_compaction"] == 1
    files = result["files"]
    off, on, sink = files["off"], files["on"], files["sink"]
    assert off["data_files"] >= 9 and off["delete_files"] >= 8
    assert on["data_files"] + on["delete_files"] < off["data_files"] + off["delete_files"]
    assert files["on_compacted"] == {"data_files": 1, "delete_files": 0, "delete_files_read": 0}
    # rewritten by the sink after 4 commits
    assert sink["data_files"] + sink["delete_files"] < off["data_files"] + off["delete_files"]
    reads = result["read_seconds"]
    names = ("fresh", "off", "on", "sink", "on_compacted", "fresh_again")
    assert all(reads[k] > 0 for k in (*names, "on_live_before_compaction"))
    assert result["ratio_off_to_fresh"] == reads["off"] / reads["fresh"]
    assert result["ratio_on_compacted_to_fresh"] == reads["on_compacted"] / reads["fresh_again"]
    spread = result["read_spread"]["off"]
    assert spread["min"] <= spread["median"] <= spread["max"]
    assert set(result["read_phases"]) == {"fresh", "off", "on", "sink", "on_compacted"}
    cold = result["cold_read_seconds"]
    assert all(cold[k] > 0 for k in ("fresh", "off", "on", "sink"))
    assert result["ratio_cold_sink_to_fresh"] == cold["sink"] / cold["fresh"]
    assert off["delete_files_read"] >= 8
    assert sink["delete_files_read"] <= sink["delete_files"]
    assert "goal (on within 1.5x of fresh" in summary(result)
