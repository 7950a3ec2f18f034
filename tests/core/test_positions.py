from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kappanb.core.positions import ReadRange, read_range
from kappanb.exceptions import StartPositionError


def _ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> str:
    return str(int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000))


def test_defaults_to_earliest_unbounded() -> None:
    for start in (None, ""):
        rng = read_range(start, None)
        assert rng == ReadRange("earliest", None)
        assert not rng.bounded
        assert rng.source_options() == {"scan.startup.mode": "earliest-offset"}


def test_latest() -> None:
    rng = read_range(" latest ", None)
    assert rng.start == "latest"
    assert rng.source_options() == {"scan.startup.mode": "latest-offset"}
    assert not rng.uses_offsets()


def test_naive_timestamp_is_utc() -> None:
    opts = read_range("2026-03-04T12:00", None).source_options()
    assert opts == {
        "scan.startup.mode": "timestamp",
        "scan.startup.timestamp-millis": _ms(2026, 3, 4, 12, 0),
    }


def test_date_only_is_midnight_utc() -> None:
    opts = read_range("2026-03-04", None).source_options()
    assert opts["scan.startup.timestamp-millis"] == _ms(2026, 3, 4)
    assert opts["scan.startup.timestamp-millis"] == "1772582400000"


def test_timestamp_with_offset_is_converted() -> None:
    opts = read_range("2026-03-04 12:00:00+01:00", None).source_options()
    assert opts["scan.startup.timestamp-millis"] == _ms(2026, 3, 4, 11, 0)


def test_partition_offsets() -> None:
    rng = read_range("0:120,1:98", None)
    assert rng.uses_offsets()
    assert rng.source_options() == {
        "scan.startup.mode": "specific-offsets",
        "scan.startup.specific-offsets": "partition:0,offset:120;partition:1,offset:98",
    }


def test_single_partition_offset() -> None:
    opts = read_range("0:5", None).source_options()
    assert opts["scan.startup.specific-offsets"] == "partition:0,offset:5"


def test_until_latest_is_bounded() -> None:
    rng = read_range("earliest", "latest")
    assert rng.bounded
    assert rng.source_options() == {
        "scan.startup.mode": "earliest-offset",
        "scan.bounded.mode": "latest-offset",
    }


def test_until_timestamp_is_bounded() -> None:
    rng = read_range("0:120,1:98", "2026-03-04T13:00+01:00")
    opts = rng.source_options()
    assert opts["scan.startup.mode"] == "specific-offsets"
    assert opts["scan.bounded.mode"] == "timestamp"
    assert opts["scan.bounded.timestamp-millis"] == _ms(2026, 3, 4, 12, 0)


def test_timestamp_range() -> None:
    opts = read_range("2026-03-04T10:00", "2026-03-04T11:00").source_options()
    begin = int(opts["scan.startup.timestamp-millis"])
    end = int(opts["scan.bounded.timestamp-millis"])
    assert end - begin == 3_600_000


@pytest.mark.parametrize(
    ("start", "until"),
    [
        ("2026-03-04T12:00", "2026-03-04T11:00"),
        ("2026-03-04T12:00", "2026-03-04T12:00"),
        ("2026-03-04T12:00", "2026-03-04T12:30+01:00"),  # 11:30 UTC
    ],
)
def test_until_not_after_from_is_refused(start: str, until: str) -> None:
    with pytest.raises(StartPositionError, match="is not after --from"):
        read_range(start, until)


@pytest.mark.parametrize(
    ("start", "until"),
    [
        ("yesterday", None),
        ("0:120,1:", None),
        ("0:120;1:98", None),
        ("-1:5", None),
        ("2026-13-01", None),
    ],
)
def test_garbage_is_refused_naming_the_forms(start: str, until: str | None) -> None:
    with pytest.raises(StartPositionError) as info:
        read_range(start, until)
    message = str(info.value)
    for form in ("earliest", "latest", "timestamp", "partition offsets", "0:120,1:98"):
        assert form in message


@pytest.mark.parametrize("until", ["tomorrow", "earliest", "0:100"])
def test_garbage_until_names_only_what_until_accepts(until: str) -> None:
    with pytest.raises(StartPositionError) as info:
        read_range("earliest", until)
    message = str(info.value)
    assert f"--until {until!r}" in message
    assert "latest" in message and "timestamp" in message
    assert "partition offsets" not in message  # a bounded replay cannot end at offsets


def test_earliest_available_reads_what_the_log_still_has() -> None:
    rng = read_range("earliest-available", "latest")
    assert rng.start == "earliest-available" and rng.bounded and not rng.uses_offsets()
    assert rng.source_options() == {
        "scan.startup.mode": "earliest-offset",
        "scan.bounded.mode": "latest-offset",
    }


def test_a_timestamp_is_exact_to_the_millisecond() -> None:
    opts = read_range("2026-12-05T10:57:21.123", None).source_options()
    assert opts["scan.startup.timestamp-millis"] == str(int(_ms(2026, 12, 5, 10, 57)) + 21_123)
