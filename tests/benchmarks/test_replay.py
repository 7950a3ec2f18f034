"""`benchmarks/replay.py --small` on the session's stack: every stage measured, outputs exact.

No speed is asserted (CI machines differ); what must hold is that each stage read the
whole topic and produced a figure, that each ratio could be computed, and that kappanb's
output (and the hand-written job's) equals the Python oracle's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kappanb.stack.embedded import EmbeddedStack

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.benchmark]

ROOT = Path(__file__).resolve().parents[2]


def test_the_small_replay_benchmark_measures_every_stage_and_matches_the_oracle(
    idle_stack: EmbeddedStack, tmp_path: Path
) -> None:
    argv = [sys.executable, str(ROOT / "benchmarks" / "replay.py"), "--small",
            "--parallelism", "1", "2",  # --small alone runs 1 only; CI checks both
            "--home", str(idle_stack.settings.home), "--out", str(tmp_path)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    print(done.stdout[-6000:], done.stderr[-3000:])
    assert done.returncode == 0, done.stderr[-3000:]
    [result_file] = tmp_path.glob("replay-*-small.json")
    result = json.loads(result_file.read_text())
    events = result["events"]
    assert result["outputs_equal_oracle"] is True

    stages = {s["stage"]: s for s in result["stages"]}
    workloads, parallelism = ("big_captured", "daily_merchants"), (1, 2)
    expected = {"produce", "raw log read, JVM", "raw log read, Python"}
    for w in workloads:
        expected |= {f"Python oracle {w}"}
        expected |= {f"{who} {w} p{p}" for p in parallelism for who in (
            "hand-written Flink SQL", "kappanb replay", "kappanb fail-fast replay")}  # fmt: skip
    assert set(stages) == expected
    for name, figure in stages.items():
        assert figure["records"] == events, name
        assert figure["wall_s"] > 0 and figure["events_per_s"] > 0, name
        assert figure["cpu_s"] > 0 and figure["cpu_s_per_million"] > 0, name
        if name.startswith(("hand-written", "kappanb")):
            assert figure["equals_oracle"] is True, name
            assert figure["flink_job_s"] > 0, name

    flink_stages = [f for n, f in stages.items() if n.startswith(("hand-written", "kappanb"))]
    assert len({f["object_reuse"] for f in flink_stages}) == 1  # the same Flink settings

    assert set(result["configurations"]) == {f"{w} p{p}" for w in workloads for p in parallelism}
    for config in result["configurations"].values():
        baselines = {"raw JVM", "hand-written Flink", "raw Python", "Python oracle"}
        assert set(config["ratios"]) == baselines
        assert set(config["fail_fast_ratios"]) == {"hand-written Flink", "kappanb (dead letters)"}
        assert len(config["median_ratios"]) == 3
        assert set(config["all_checkpoints"]) == {"kappanb", "fail-fast", "hand"}
        for against in [*config["ratios"].values(), *config["fail_fast_ratios"].values(),
                        *config["median_ratios"].values()]:  # fmt: skip
            assert against["events_per_s"] > 0 and against["cpu_s_per_million"] > 0

    assert set(result["profiles"]) == {workloads[0], f"{workloads[0]} fail-fast"}  # --small
    for w in result["profiles"]:
        profile = result["profiles"][w]
        assert profile["jfr_samples"] > 0
        assert sum(profile["taskmanager_java_samples_pct"].values()) > 50
        assert profile["replay"]["equals_oracle"] is True
