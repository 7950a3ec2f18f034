from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kappanb.exceptions import SettingsError
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsConfig, PaymentsGenerator

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")
SQL_TYPES: dict[str, type] = {"STRING": str, "BIGINT": int, "BOOLEAN": bool, "TIMESTAMP(3)": str}


def times(events: list[dict[str, Any]]) -> list[datetime]:
    return [datetime.strptime(e["event_time"], "%Y-%m-%d %H:%M:%S.%f") for e in events]


def behind_running_max(events: list[dict[str, Any]]) -> list[float]:
    """For each event, how many seconds its time is before the largest time seen before it."""
    behind, latest = [], None
    for t in times(events):
        behind.append(0.0 if latest is None else max(0.0, (latest - t).total_seconds()))
        latest = t if latest is None else max(latest, t)
    return behind


def test_same_seed_same_events_and_other_seed_other_events() -> None:
    first = list(PaymentsGenerator(seed=7, out_of_order=0.1, late=0.01, bug=True).events(3000))
    again = list(
        PaymentsGenerator(PaymentsConfig(seed=7, out_of_order=0.1, late=0.01, bug=True)).events(
            3000
        )
    )
    other = list(PaymentsGenerator(seed=8, out_of_order=0.1, late=0.01, bug=True).events(3000))
    assert first == again
    assert [e["amount_cents"] for e in first] != [e["amount_cents"] for e in other]


def test_a_shorter_run_is_a_prefix_and_iteration_is_endless() -> None:
    generator = PaymentsGenerator(out_of_order=0.05)
    long = list(generator.events(1000))
    assert list(generator.events(100)) == long[:100]
    endless = iter(generator)
    assert [next(endless) for _ in range(1000)] == long


def test_fields_are_plain_json_types_matching_the_schema() -> None:
    columns = [column.strip().split(" ", 1) for column in PAYMENTS_SCHEMA.split(",")]
    events = list(PaymentsGenerator().events(500))
    for event in events:
        assert list(event) == [name for name, _ in columns]
        for name, sql_type in columns:
            assert type(event[name]) is SQL_TYPES[sql_type], (name, event[name])
        assert TIMESTAMP.match(event["event_time"])
    assert [e["payment_id"] for e in events[:3]] == ["p0000001", "p0000002", "p0000003"]
    assert len({e["payment_id"] for e in events}) == 500


def test_counts_ranges_and_shares() -> None:
    events = list(PaymentsGenerator(merchants=20, customers=300, captured_share=0.8).events(20_000))
    assert len(events) == 20_000
    merchants = {int(e["merchant_id"][1:]) for e in events}
    assert merchants <= set(range(1, 21)) and len(merchants) == 20
    assert {int(e["customer_id"][1:]) for e in events} <= set(range(1, 301))
    assert 0.78 < sum(e["captured"] for e in events) / len(events) < 0.82
    assert all(e["amount_cents"] >= 50 for e in events)
    currencies: dict[str, set[str]] = {}
    for event in events:
        currencies.setdefault(event["merchant_id"], set()).add(event["currency"])
    assert all(len(found) == 1 for found in currencies.values())


def test_historical_times_start_at_start_in_order_and_span_as_configured() -> None:
    events = list(PaymentsGenerator(events_per_day=10_000).events(10_000))
    stamps = times(events)
    assert events[0]["event_time"] == "2026-03-01 00:00:00.000"
    assert stamps == sorted(stamps)
    assert timedelta(hours=22) < stamps[-1] - stamps[0] < timedelta(hours=26)


def test_default_rate_makes_100k_events_span_a_few_days() -> None:
    config = PaymentsConfig()
    assert 2 < 100_000 / config.events_per_day < 5


def test_start_is_taken_as_utc() -> None:
    paris = timezone(timedelta(hours=1))
    aware = next(iter(PaymentsGenerator(start=datetime(2026, 1, 1, 10, 0, tzinfo=paris))))
    naive = next(iter(PaymentsGenerator(start=datetime(2026, 1, 1, 10, 0))))
    assert aware["event_time"] == "2026-01-01 09:00:00.000"
    assert naive["event_time"] == "2026-01-01 10:00:00.000"


def test_out_of_order_and_late_events_have_their_share_and_bounds() -> None:
    config = PaymentsConfig(out_of_order=0.1, max_disorder=5.0, late=0.02, late_by=120.0)
    events = list(PaymentsGenerator(config).events(20_000))
    behind = behind_running_max(events)
    disordered = [b for b in behind if 0 < b <= 5.0]
    late = [b for b in behind if b > 120.0]
    assert len(disordered) + len(late) == sum(b > 0 for b in behind)  # nothing in between
    assert 0.09 < len(disordered) / len(events) < 0.11
    assert 0.015 < len(late) / len(events) < 0.025
    assert max(late) <= 240.0


def test_disorder_changes_only_the_times() -> None:
    plain = list(PaymentsGenerator().events(2000))
    shifted = list(PaymentsGenerator(out_of_order=0.2, late=0.05).events(2000))
    without_time = [{k: v for k, v in e.items() if k != "event_time"} for e in plain]
    assert without_time == [{k: v for k, v in e.items() if k != "event_time"} for e in shifted]
    assert [e["event_time"] for e in plain] != [e["event_time"] for e in shifted]


def test_no_duplicates_without_the_bug() -> None:
    events = list(PaymentsGenerator(duplicate_share=0.5).events(5000))
    assert len({e["payment_id"] for e in events}) == len(events) == 5000


def test_the_bug_repeats_some_payments_identically_a_little_later() -> None:
    clean = list(PaymentsGenerator(out_of_order=0.1).events(20_000))
    buggy = list(PaymentsGenerator(out_of_order=0.1, bug=True).events(20_000))
    first_at: dict[str, int] = {}
    copies = 0
    for position, event in enumerate(buggy):
        if event["payment_id"] in first_at:
            original = buggy[first_at[event["payment_id"]]]
            assert event == original and event is not original
            assert 2 <= position - first_at[event["payment_id"]] <= 10
            copies += 1
        else:
            first_at[event["payment_id"]] = position
    assert 0.015 < copies / 20_000 < 0.025
    assert len(buggy) == 20_000 + copies
    assert [buggy[p] for p in sorted(first_at.values())] == clean


def test_duplicate_share_is_configurable() -> None:
    events = list(PaymentsGenerator(bug=True, duplicate_share=0.2).events(5000))
    assert 0.17 < (len(events) - 5000) / 5000 < 0.23


def test_live_times_follow_the_wall_clock() -> None:
    before = datetime.now(UTC).replace(tzinfo=None)
    events = list(PaymentsGenerator(live=True).events(200))
    after = datetime.now(UTC).replace(tzinfo=None)
    stamps = times(events)
    assert stamps == sorted(stamps)
    assert before - timedelta(milliseconds=1) <= stamps[0] and stamps[-1] <= after
    historical = list(PaymentsGenerator().events(200))
    assert [e["payment_id"] for e in events] == [e["payment_id"] for e in historical]
    assert [e["amount_cents"] for e in events] == [e["amount_cents"] for e in historical]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"merchants": 0}, "merchants must be at least 1"),
        ({"events_per_day": 0}, "events_per_day must be at least 1"),
        ({"captured_share": 1.5}, "captured_share is a share"),
        ({"out_of_order": -0.1}, "out_of_order is a share"),
        ({"duplicate_share": float("nan")}, "duplicate_share is a share"),
        ({"out_of_order": 0.7, "late": 0.4}, r"out_of_order \+ late"),
        ({"max_disorder": 0}, "max_disorder is seconds"),
        ({"late_by": -5}, "late_by is seconds"),
    ],
)
def test_bad_settings_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        PaymentsGenerator(**changes)


def test_negative_count_is_refused_at_once() -> None:
    with pytest.raises(SettingsError, match="cannot be negative"):
        PaymentsGenerator().events(-1)
    assert list(PaymentsGenerator().events(0)) == []
