"""A deterministic stream of card payments, for teaching notebooks, tests and benchmarks.

Each event is a flat dict of JSON types matching :data:`PAYMENTS_SCHEMA`::

    {"payment_id": "p0000001", "merchant_id": "m007", "customer_id": "c00042",
     "amount_cents": 1999, "currency": "EUR", "captured": True,
     "event_time": "2026-03-01 00:00:02.881"}

Merchants are skewed (merchant ``m001`` is the busiest, Zipf-like), each merchant has one
currency, amounts are log-normal with a median of 25.00. Three independent random streams,
all seeded from ``seed``, drive the fields, the event-time disorder and the duplicates, so
switching disorder or the bug on changes only that aspect: the same payments, shifted or
repeated.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from heapq import heappop, heappush
from itertools import accumulate
from typing import Any

from kappanb.exceptions import SettingsError
from kappanb.kafka.records import sql_timestamp

PAYMENTS_SCHEMA = (
    "payment_id STRING, merchant_id STRING, customer_id STRING, amount_cents BIGINT, "
    "currency STRING, captured BOOLEAN, event_time TIMESTAMP(3)"
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_DAY_MS = 86_400_000
_MAX_DUPLICATE_LAG = 3  # a retried payment reappears after 1 to 3 further payments


@dataclass(frozen=True)
class PaymentsConfig:
    """The knobs of :class:`PaymentsGenerator`; invalid values raise SettingsError.

    - ``events_per_day``: mean rate of event time (exponential gaps); the default 30,000
      makes 100k events span about 3.3 days.
    - ``out_of_order``: share of events whose event_time is set back to between 1 ms and
      ``max_disorder`` seconds before the largest event_time emitted so far: out of order,
      but within a watermark delay of ``max_disorder`` seconds or more.
    - ``late``: share of events set back by more than ``late_by`` (up to twice ``late_by``)
      seconds before the largest event_time so far; with ``late_by`` at least the watermark
      delay plus the window size, event-time windows drop them.
    - ``bug``: see :class:`PaymentsGenerator`; ``duplicate_share`` is the share of payments
      sent twice when it is on.
    - ``live``: event times follow the wall clock instead of starting at ``start``.
    """

    seed: int = 42
    start: datetime = datetime(2026, 3, 1, tzinfo=UTC)
    events_per_day: int = 30_000
    merchants: int = 50
    customers: int = 1000
    captured_share: float = 0.9
    out_of_order: float = 0.0
    max_disorder: float = 10.0
    late: float = 0.0
    late_by: float = 300.0
    bug: bool = False
    duplicate_share: float = 0.02
    live: bool = False

    def __post_init__(self) -> None:
        for name in ("events_per_day", "merchants", "customers"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, not {getattr(self, name)}.")
        for name in ("captured_share", "out_of_order", "late", "duplicate_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SettingsError(f"{name} is a share: 0 to 1, not {getattr(self, name)}.")
        if self.out_of_order + self.late > 1.0:
            raise SettingsError("out_of_order + late is more than 1: at most every event.")
        for name in ("max_disorder", "late_by"):
            if not getattr(self, name) >= 0.001:
                raise SettingsError(f"{name} is seconds, at least 0.001: {getattr(self, name)}.")


class PaymentsGenerator:
    """Payment events, identical for the same config on every run and machine (unless live).

    ``bug=True`` is the switch teaching notebooks flip to create a metric bug: it simulates
    an upstream client that retries, so a ``duplicate_share`` of payments is emitted twice,
    with the same payment_id and identical content, the copy a little later in the log.
    Counts and sums over the stream are then too high until a job version deduplicates
    by payment_id. Apart from the copies, the events are the same as with the bug off.

    ``PaymentsGenerator(seed=7, bug=True)`` is short for passing a :class:`PaymentsConfig`;
    both may be given, the keyword arguments then replace the config's fields.
    """

    def __init__(self, config: PaymentsConfig | None = None, /, **changes: Any) -> None:
        self.config = replace(config or PaymentsConfig(), **changes)

    def events(self, n: int) -> Iterator[dict[str, Any]]:
        """The first ``n`` distinct payments (plus their copies when ``bug`` is on)."""
        if n < 0:
            raise SettingsError(f"the number of events cannot be negative: {n}.")
        return self._stream(n)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """An endless stream of payments; pace it with ``produce_json(..., rate=...)``."""
        return self._stream(None)

    def _stream(self, limit: int | None) -> Iterator[dict[str, Any]]:
        """Payments in log order; with ``limit``, copies still due come at the end."""
        cfg = self.config
        fields = _Fields(cfg)
        timeline = _Timeline(cfg, fields.rng)
        copies = random.Random(f"{cfg.seed}:duplicates")
        pending: list[tuple[int, int, dict[str, Any]]] = []
        index = 0
        while limit is None or index < limit:
            event = fields.draw(index, timeline.next_ms())
            yield event
            if cfg.bug and copies.random() < cfg.duplicate_share:
                lag = copies.randint(1, _MAX_DUPLICATE_LAG)
                heappush(pending, (index + lag, index, dict(event)))
            while pending and pending[0][0] <= index:
                yield heappop(pending)[2]
            index += 1
        while pending:
            yield heappop(pending)[2]


class _Fields:
    """Draws the payment fields, and the event-time gaps, from the seed's main stream."""

    def __init__(self, cfg: PaymentsConfig) -> None:
        self.rng = random.Random(cfg.seed)
        self._customers = cfg.customers
        self._merchant_weights = list(accumulate(1.0 / k for k in range(1, cfg.merchants + 1)))
        self._merchants = range(1, cfg.merchants + 1)
        self._captured_share = cfg.captured_share

    def draw(self, index: int, event_ms: int) -> dict[str, Any]:
        """Payment number ``index`` (from 0) happening at ``event_ms`` (epoch milliseconds)."""
        rng = self.rng
        merchant = rng.choices(self._merchants, cum_weights=self._merchant_weights)[0]
        amount = max(50, int(rng.lognormvariate(math.log(2500), 0.9)))
        return {
            "payment_id": f"p{index + 1:07d}",
            "merchant_id": f"m{merchant:03d}",
            "customer_id": f"c{rng.randint(1, self._customers):05d}",
            "amount_cents": amount,
            "currency": _currency(merchant),
            "captured": rng.random() < self._captured_share,
            "event_time": sql_timestamp(_EPOCH + event_ms * _MS),
        }


def _currency(merchant: int) -> str:
    """The one currency a merchant charges in: 60% EUR, 30% USD, 10% GBP of merchants."""
    slot = merchant % 10
    return "EUR" if slot < 6 else "USD" if slot < 9 else "GBP"


class _Timeline:
    """Event times in epoch milliseconds: a steady clock, some events set back from it."""

    def __init__(self, cfg: PaymentsConfig, rng: random.Random) -> None:
        self._cfg = cfg
        self._gaps = rng  # shared with the fields: one draw per event in both modes
        self._disorder = random.Random(f"{cfg.seed}:disorder")
        start = cfg.start if cfg.start.tzinfo else cfg.start.replace(tzinfo=UTC)
        self._clock_ms = (start - _EPOCH) // _MS
        self._max_ms: int | None = None  # the largest event time emitted so far
        self._mean_gap_ms = _DAY_MS / cfg.events_per_day

    def next_ms(self) -> int:
        """The next event's time: the clock's, or set back when the event is out of order."""
        gap = round(self._gaps.expovariate(1.0 / self._mean_gap_ms))
        if self._cfg.live:
            now_ms = (datetime.now(UTC) - _EPOCH) // _MS
            self._clock_ms = now_ms if self._max_ms is None else max(self._clock_ms, now_ms)
        elif self._max_ms is not None:
            self._clock_ms += gap
        roll = self._disorder.random()
        if self._max_ms is None:
            self._max_ms = self._clock_ms
            return self._clock_ms
        if roll < self._cfg.late:
            late_ms = round(self._cfg.late_by * 1000)
            return self._max_ms - self._disorder.randint(late_ms + 1, 2 * late_ms)
        if roll < self._cfg.late + self._cfg.out_of_order:
            return self._max_ms - self._disorder.randint(1, round(self._cfg.max_disorder * 1000))
        self._max_ms = self._clock_ms
        return self._clock_ms
