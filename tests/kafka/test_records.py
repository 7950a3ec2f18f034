from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import polars as pl
import pytest

from kappanb.exceptions import ProduceError
from kappanb.kafka.records import sql_timestamp, to_records

PARIS = ZoneInfo("Europe/Paris")


def test_sql_timestamp_is_utc_wall_clock_in_milliseconds() -> None:
    assert sql_timestamp(datetime(2026, 3, 1, 9, 5, 7, 123987)) == "2026-03-01 09:05:07.123"
    assert sql_timestamp(datetime(2026, 3, 1, 0, 30, tzinfo=PARIS)) == "2026-02-28 23:30:00.000"
    assert sql_timestamp(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == "2026-07-01 12:00:00.000"


def test_list_of_dicts_with_every_special_value() -> None:
    rows = [
        {
            "naive": datetime(2026, 3, 1, 10, 0, 0, 5000),
            "aware": datetime(2026, 7, 1, 10, 0, tzinfo=PARIS),  # summer: UTC+2
            "day": date(2026, 3, 1),
            "price": Decimal("12.30"),
            "missing": float("nan"),
            "none": None,
            "nested": {"at": datetime(2026, 1, 1), "tags": ("a", Decimal("1"))},
            "plain": [1, 2.5, True, "x"],
        }
    ]
    (record,) = to_records(rows)
    assert record == {
        "naive": "2026-03-01 10:00:00.005",
        "aware": "2026-07-01 08:00:00.000",
        "day": "2026-03-01",
        "price": "12.30",
        "missing": None,
        "none": None,
        "nested": {"at": "2026-01-01 00:00:00.000", "tags": ["a", "1"]},
        "plain": [1, 2.5, True, "x"],
    }
    json.dumps(record, allow_nan=False)  # strictly valid JSON


def test_an_endless_generator_is_read_lazily() -> None:
    def endless() -> Iterator[dict[str, Any]]:
        for n in itertools.count():
            yield {"n": n}

    assert list(itertools.islice(to_records(endless()), 3)) == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_polars_frame_with_zoned_and_naive_datetimes() -> None:
    frame = pl.DataFrame(
        {
            "id": [1, 2],
            "at": [datetime(2026, 3, 1, 1, 0), None],
            "day": [date(2026, 3, 1), date(2026, 3, 2)],
            "price": [Decimal("1.50"), Decimal("2.25")],
            "ok": [True, False],
        }
    ).with_columns(
        zoned=pl.col("at").dt.replace_time_zone("Europe/Paris"),
        precise=pl.col("at").cast(pl.Datetime("ns")) + pl.duration(microseconds=1999),
    )
    assert list(to_records(frame)) == [
        {
            "id": 1,
            "at": "2026-03-01 01:00:00.000",
            "day": "2026-03-01",
            "price": "1.50",
            "ok": True,
            "zoned": "2026-03-01 00:00:00.000",
            "precise": "2026-03-01 01:00:00.001",
        },
        {
            "id": 2,
            "at": None,
            "day": "2026-03-02",
            "price": "2.25",
            "ok": False,
            "zoned": None,
            "precise": None,
        },
    ]


def test_pandas_frame_with_timestamps_nat_nan_and_numpy_values() -> None:
    frame = pd.DataFrame(
        {
            "id": [1, 2],
            "amount": [1.5, float("nan")],
            "at": pd.to_datetime(["2026-03-01 10:00:00.123456", "2026-03-01 11:00:00.000000"]),
            "when": [pd.Timestamp("2026-01-01"), pd.NaT],
        }
    )
    frame["zoned"] = frame["at"].dt.tz_localize("Europe/Paris")
    frame["big"] = frame["id"].astype("int32")
    records = list(to_records(frame))
    assert records == [
        {
            "id": 1,
            "amount": 1.5,
            "at": "2026-03-01 10:00:00.123",
            "when": "2026-01-01 00:00:00.000",
            "zoned": "2026-03-01 09:00:00.123",
            "big": 1,
        },
        {
            "id": 2,
            "amount": None,
            "at": "2026-03-01 11:00:00.000",
            "when": None,
            "zoned": "2026-03-01 10:00:00.000",
            "big": 2,
        },
    ]
    assert all(type(r["id"]) is int and type(r["big"]) is int for r in records)
    json.dumps(records, allow_nan=False)


def test_empty_inputs_yield_nothing() -> None:
    assert list(to_records([])) == []
    assert list(to_records(pl.DataFrame())) == []
    assert list(to_records(pd.DataFrame({"a": []}))) == []
    assert list(to_records(iter(()))) == []


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ("payments", "str"),
        (b"{}", "bytes"),
        (42, "int"),
        (None, "NoneType"),
        ({"a": 1}, r"dict \(a single dict: wrap it in a list\)"),
        (pl.LazyFrame({"a": [1]}), "LazyFrame"),
    ],
)
def test_other_inputs_are_refused_at_once_naming_what_is_accepted(data: object, named: str) -> None:
    with pytest.raises(ProduceError, match=rf"cannot produce a {named}: give a polars DataFrame, "):
        to_records(data)


def test_an_element_that_is_not_a_dict_is_refused() -> None:
    records = to_records([{"a": 1}, 2])
    assert next(records) == {"a": 1}
    with pytest.raises(ProduceError, match="element 1 is a int, not a dict: give a polars"):
        next(records)


def test_parse_timestamp_reads_what_produce_and_isoformat_write() -> None:
    from kappanb.kafka.records import parse_timestamp

    moment = datetime(2026, 3, 1, 9, 5, 7, 123987, tzinfo=PARIS)
    in_utc = moment.astimezone(UTC)
    assert parse_timestamp(moment.isoformat()) == in_utc  # "...T09:05:07.123987+01:00"
    assert parse_timestamp(in_utc.replace(tzinfo=None).isoformat()) == in_utc  # naive: UTC
    assert parse_timestamp(sql_timestamp(moment)) == in_utc.replace(microsecond=123000)
    assert parse_timestamp("2026-03-01") is None  # a date alone is not a timestamp
