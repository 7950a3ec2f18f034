"""The table-maintenance benchmark's measurement, small, on the session's stack: both aged
tables reach the oracle, the compacted one has fewer files and no delete file left from
before its last compaction, and every figure is there."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.table_maintenance import measure
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench

pytestmark = pytest.mark.integration


def test_a_small_run_measures_both_tables_against_a_fresh_one(
    stack: EmbeddedStack,
) -> None:
    wb = Workbench(replace(stack.settings, checkpoint_interval="1 s"), auto_up=False)
    result = measure(wb, commits=8, compact_every=4)
    assert result["compactions"] == 2 and result["events"] == 8 * 40
    off, on = result["files"]["off"], result["files"]["on"]
    assert off["data_files"] >= 8 and off["delete_files"] >= 7
    assert on["data_files"] + on["delete_files"] < off["data_files"] + off["delete_files"]
    sink = result["files"]["sink"]  # rewritten by the sink after 4 commits
    assert sink["data_files"] + sink["delete_files"] < off["data_files"] + off["delete_files"]
    reads = result["read_seconds"]
    assert all(reads[k] > 0 for k in ("fresh", "off", "on", "sink"))
    assert result["ratio_off_to_fresh"] == reads["off"] / reads["fresh"]
    assert reads["on_before_compaction"] > 0  # timed before each compaction
    cold = result["cold_read_seconds"]
    assert all(cold[k] > 0 for k in ("fresh", "off", "on", "sink"))
    assert result["ratio_cold_sink_to_fresh"] == cold["sink"] / cold["fresh"]
    assert on["delete_files_read"] == 0 and off["delete_files_read"] >= 7
    assert sink["delete_files_read"] <= sink["delete_files"]
