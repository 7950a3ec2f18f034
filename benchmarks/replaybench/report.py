"""The benchmark's table on the terminal and its results file, with the ratios."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from benchmarks.replaybench.measure import Figure


def best(figures: Sequence[Figure]) -> Figure:
    """Of repeated measurements of one stage, the fastest (the least disturbed by noise)."""
    return min(figures, key=lambda f: f.wall_s)


def median_ratios(kappanb: Sequence[Figure], other: Sequence[Figure]) -> dict[str, float | None]:
    """Like :func:`ratios` for one baseline, of the medians over the repeats: less swayed by
    one lucky run than the best of each."""
    wall = [statistics.median(f.wall_s for f in fs) for fs in (kappanb, other)]
    cpu = [statistics.median(f.cpu_s_per_million for f in fs) for fs in (kappanb, other)]
    return {"events_per_s": ratio(wall[1], wall[0]), "cpu_s_per_million": ratio(cpu[0], cpu[1])}


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def ratios(kappanb: Figure, others: dict[str, Figure]) -> dict[str, dict[str, float | None]]:
    """kappanb against each baseline: throughput (events/s) and CPU per event, as a/b."""
    return {
        name: {
            "events_per_s": ratio(kappanb.events_per_s, other.events_per_s),
            "cpu_s_per_million": ratio(kappanb.cpu_s_per_million, other.cpu_s_per_million),
        }
        for name, other in others.items()
    }


def table(figures: Sequence[Figure]) -> str:
    head = (
        f"{'stage':<44} {'events':>10} {'wall s':>8} {'events/s':>10} {'CPU s':>7} "
        f"{'CPU s/M':>8}  CPU by process"
    )
    lines = [head, "-" * len(head)]
    for f in figures:
        split = ", ".join(f"{k} {v:.1f}" for k, v in f.cpu_stack_s.items() if v >= 0.05)
        split = f"{split}, client {f.cpu_client_s:.1f}" if split else f"client {f.cpu_client_s:.1f}"
        lines.append(
            f"{f.stage:<44} {f.records:>10,} {f.wall_s:>8.2f} {f.events_per_s:>10,.0f} "
            f"{f.cpu_s:>7.1f} {f.cpu_s_per_million:>8.1f}  {split}"
        )
    return "\n".join(lines)


def ratio_lines(results: dict[str, dict[str, dict[str, float | None]]]) -> str:
    lines = ["kappanb replay against each baseline (throughput a/b; CPU per event a/b):"]
    for config, against in results.items():
        parts = [
            f"{name} {r['events_per_s']}x / CPU {r['cpu_s_per_million']}x"
            for name, r in against.items()
        ]
        lines.append(f"  {config}: " + "; ".join(parts))
    return "\n".join(lines)
