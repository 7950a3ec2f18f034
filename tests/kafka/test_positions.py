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
        ("2026-03-04T12:00", 1_772_625_600_000),
        ("2026-03-04T12:00:00.123456789", 1_772_625_600_123),
        ("2026-03-04T17:30:00.5+05:30", 1_772_625_600_500),
        ("2026-03-04T04:00:00-0800", 1_772_625_600_000),
        ("2026-03-04T14:00:00+02", 1_772_625_600_000),
        ("1969-12-31T23:59:59.9995", -1),  # floored, as the format does
        ("2026-03-04X12:00:00", None),  # the format refuses these too
        ("2026-03-04T12:00:00.1234567891", None),
        ("2026-02-30T12:00:00", None),
        ("2026-03-04T12:00:00 UTC", None),
        (1_772_625_600_000, 1_772_625_600_000),
        ("not a time", None),
        (True, None),
        (None, None),
    ],
)
def test_event_time_ms(value: object, expected: int | None) -> None:
    assert event_time_ms(value) == expected
