"""Durations in words for people (850 ms, 42 s, 12 min): lags and ages in messages and panels."""

from __future__ import annotations


def duration(ms: int) -> str:
    """A lag for people: 850 ms, 42 s, 12 min, 5.2 h, 3.1 days."""
    seconds = ms / 1000
    if seconds < 1:
        return f"{ms} ms"
    for limit, unit, size in ((90, "s", 1), (90 * 60, "min", 60), (48 * 3600, "h", 3600)):
        if seconds < limit:
            return (
                f"{seconds / size:.0f} {unit}"
                if unit in ("s", "min")
                else f"{seconds / size:.1f} {unit}"
            )
    return f"{seconds / 86400:.1f} days"
