"""Event times as JSON events carry them, read back as epoch milliseconds (no I/O)."""

from __future__ import annotations

import pytest

from kappanb.kafka.positions import event_time_ms


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-04T12:00:00Z", 1_772_625_600_000),
        ("2026-03-04T12:00:00.250+00:00", 1_772_625_600_250),
        ("2026-03-04 12:00:00", 1_772_625_600_000),  # no zone: UTC, as jobs run
        (1_772_625_600_000, 1_772_625_600_000),
        ("not a time", None),
        (True, None),
        (None, None),
    ],
)
def test_event_time_ms(value: object, expected: int | None) -> None:
    assert event_time_ms(value) == expected
