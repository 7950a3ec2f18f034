"""The same stages on two stacks, as ratios: the local cluster over the embedded stack.

A ratio here is cluster / embedded for every figure: wall time and CPU per event above 1
mean the cluster took longer or spent more; throughput below 1 means it was slower.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from benchmarks.replaybench.measure import Figure
from benchmarks.replaybench.report import ratio

UNPLACED = ("", "None", "(unassigned)")


def versus(embedded: Figure, cluster: Figure) -> dict[str, float | None]:
    """One stage's figures on the cluster over the embedded stack's (None: no base)."""
    found = {
        "wall_s": ratio(cluster.wall_s, embedded.wall_s),
        "events_per_s": ratio(cluster.events_per_s, embedded.events_per_s),
        "cpu_s": ratio(cluster.cpu_s, embedded.cpu_s),
        "cpu_s_per_million": ratio(cluster.cpu_s_per_million, embedded.cpu_s_per_million),
    }
    job_s = [f.extra.get("flink_job_s") for f in (cluster, embedded)]
    if all(isinstance(s, int | float) for s in job_s):
        found["flink_job_s"] = ratio(float(job_s[0]), float(job_s[1]))  # type: ignore[arg-type]
    return found


def compare(
    embedded: Sequence[Figure], cluster: Sequence[Figure]
) -> dict[str, dict[str, float | None]]:
    """Every stage both stacks measured, by its name, in the embedded run's order."""
    on_cluster = {f.stage: f for f in cluster}
    return {f.stage: versus(f, on_cluster[f.stage]) for f in embedded if f.stage in on_cluster}


def taskmanagers(vertices: Iterable[Mapping[str, Any]]) -> set[str]:
    """The TaskManagers a job's subtasks ran on, from Flink's REST answers for each vertex
    (``/jobs/J/vertices/V`` has ``subtasks``, ``/jobs/J/vertices/V/taskmanagers`` has
    ``taskmanagers``; either will do), without the placeholders of a subtask not placed."""
    found: set[str] = set()
    for vertex in vertices:
        for entry in [*vertex.get("subtasks", []), *vertex.get("taskmanagers", [])]:
            where = str(entry.get("taskmanager-id", ""))
            if where not in UNPLACED:
                found.add(where)
    return found


def versus_lines(ratios: Mapping[str, Mapping[str, float | None]]) -> str:
    """The ratios as the terminal shows them, one stage a line."""
    head = f"{'stage (cluster / embedded)':<44} {'wall s':>8} {'events/s':>9} {'CPU s/M':>8}"
    lines = [head, "-" * len(head)]
    for stage, r in ratios.items():
        cells = [_x(r.get(k)) for k in ("wall_s", "events_per_s", "cpu_s_per_million")]
        job = f"  (Flink job s {_x(r['flink_job_s'])})" if "flink_job_s" in r else ""
        lines.append(f"{stage:<44} {cells[0]:>8} {cells[1]:>9} {cells[2]:>8}{job}")
    return "\n".join(lines)


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"
