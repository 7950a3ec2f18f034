"""Durations: lags in words for people, and grace periods as people write them."""

from __future__ import annotations

import pytest

from kappanb.core.durations import duration, grace_ms
from kappanb.exceptions import DurationError

DAY = 86_400_000


@pytest.mark.parametrize(
    ("text", "ms"),
    [("7d", 7 * DAY), ("7 days", 7 * DAY), ("1 day", DAY), ("36h", 36 * 3_600_000),
     ("90min", 90 * 60_000), ("2w", 14 * DAY), ("1.5d", 36 * 3_600_000), ("0s", 0),
     (" 45 S ", 45_000)],
)  # fmt: skip
def test_a_grace_period_as_written(text: str, ms: int) -> None:
    assert grace_ms(text) == ms


@pytest.mark.parametrize("text", ["", "7", "d", "-7d", "7 fortnights", "7d 2h", "soon"])
def test_anything_else_is_refused_saying_what_to_write(text: str) -> None:
    with pytest.raises(DurationError, match=r"is not a grace period: write a number and a unit"):
        grace_ms(text)


def test_a_lag_in_words() -> None:
    assert [duration(ms) for ms in (850, 42_000, 12 * 60_000, 3 * DAY)] == [
        "850 ms", "42 s", "12 min", "3.0 days"
    ]  # fmt: skip
