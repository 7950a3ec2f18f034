"""Units of the cluster-beside-embedded replay benchmark: its ratios and where tasks ran."""

from __future__ import annotations

from benchmarks.replaybench.measure import Figure
from benchmarks.replaybench.versus import compare, taskmanagers, versus, versus_lines


def _figure(stage: str, wall_s: float, cpu_s: float, job_s: float | None = None) -> Figure:
    extra: dict[str, object] = {} if job_s is None else {"flink_job_s": job_s}
    return Figure(stage, 1_000_000, wall_s, {"broker": cpu_s / 2}, cpu_s / 2, extra)


def test_a_ratio_is_the_cluster_over_the_embedded_stack() -> None:
    embedded = _figure("kappanb replay big_captured p1", 10.0, 20.0, job_s=5.0)
    cluster = _figure("kappanb replay big_captured p1", 20.0, 30.0, job_s=12.5)
    assert versus(embedded, cluster) == {
        "wall_s": 2.0,
        "events_per_s": 0.5,  # half the throughput: the cluster is slower
        "cpu_s": 1.5,
        "cpu_s_per_million": 1.5,
        "flink_job_s": 2.5,
    }


def test_a_stage_without_a_flink_job_has_no_job_ratio_and_a_zero_base_none() -> None:
    found = versus(_figure("produce", 0.0, 0.0), _figure("produce", 4.0, 2.0))
    assert "flink_job_s" not in found
    assert found["wall_s"] is None and found["cpu_s"] is None


def test_only_stages_both_stacks_measured_are_compared_in_the_embedded_order() -> None:
    embedded = [_figure("produce", 2.0, 2.0), _figure("raw", 1.0, 1.0), _figure("only here", 1, 1)]
    cluster = [_figure("raw", 3.0, 1.0), _figure("produce", 4.0, 2.0)]
    ratios = compare(embedded, cluster)
    assert list(ratios) == ["produce", "raw"]
    assert ratios["raw"]["wall_s"] == 3.0
    lines = versus_lines(ratios).splitlines()
    assert lines[2].startswith("produce") and "2.00x" in lines[2]


def test_the_taskmanagers_of_a_job_leave_out_subtasks_not_placed() -> None:
    answers = [
        {
            "subtasks": [
                {"taskmanager-id": "kappanb-flink-taskmanager-1"},
                {"taskmanager-id": "(unassigned)"},
            ]
        },
        {"taskmanagers": [{"taskmanager-id": "kappanb-flink-taskmanager-2"}]},
        {"subtasks": [{"host": "127.0.0.1"}]},
    ]
    assert taskmanagers(answers) == {"kappanb-flink-taskmanager-1", "kappanb-flink-taskmanager-2"}
