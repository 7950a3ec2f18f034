"""Independent Python computations over produced events, and a polling helper for tests."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

T = TypeVar("T")


def daily_payments(
    events: Iterable[dict[str, Any]], captured: bool
) -> dict[date, tuple[int, int, int]]:
    """day -> (distinct merchants, payments, amount) of events whose `captured` is the flag."""
    merchants: dict[date, set[str]] = defaultdict(set)
    counts: dict[date, int] = defaultdict(int)
    amounts: dict[date, int] = defaultdict(int)
    for e in events:
        if e["captured"] is not captured:
            continue
        day = datetime.fromisoformat(e["event_time"]).date()
        merchants[day].add(e["merchant_id"])
        counts[day] += 1
        amounts[day] += e["amount_cents"]
    return {d: (len(merchants[d]), counts[d], amounts[d]) for d in merchants}


def eventually(probe: Callable[[], T], check: Callable[[T], bool], timeout: float) -> T:
    """Call ``probe`` until ``check`` accepts its value; return the last value either way."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not check(value) and time.monotonic() < deadline:
        time.sleep(2)
        value = probe()
    return value
