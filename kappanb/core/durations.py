"""Durations in words for people (850 ms, 42 s, 12 min): lags and ages in messages and
panels; and the grace periods people write (``7d``, ``12 h``)."""

from __future__ import annotations

import re

from kappanb.exceptions import DurationError

_GRACE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)", re.I)
_GRACE_UNIT_MS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1000),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60_000),
    **dict.fromkeys(("h", "hour", "hours"), 3_600_000),
    **dict.fromkeys(("d", "day", "days"), 86_400_000),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86_400_000),
}


def grace_ms(text: str) -> int:
    """A grace period as written (``7d``, ``36 h``, ``1.5 days``, ``0s``) in milliseconds."""
    match = _GRACE.fullmatch(text.strip())
    if not match or match.group(2).lower() not in _GRACE_UNIT_MS:
        raise DurationError(
            f"{text!r} is not a grace period: write a number and a unit, e.g. 7d, 36h, 90min, "
            "2w or 0s (at the next sweep)"
        )
    return round(float(match.group(1)) * _GRACE_UNIT_MS[match.group(2).lower()])


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
