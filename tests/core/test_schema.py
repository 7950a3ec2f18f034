from __future__ import annotations

import pytest

from kappanb.core.schema import (
    Column,
    check_event_time,
    format_columns,
    parse_columns,
    parse_duration_ms,
)
from kappanb.exceptions import SchemaError


def test_parse_columns_basic() -> None:
    cols = parse_columns("id STRING, amount_cents BIGINT, ts TIMESTAMP(3)")
    assert cols == (
        Column("id", "STRING"),
        Column("amount_cents", "BIGINT"),
        Column("ts", "TIMESTAMP(3)"),
    )


def test_decimal_with_scale_stays_one_column() -> None:
    cols = parse_columns("price DECIMAL(10, 2), qty INT")
    assert cols == (Column("price", "DECIMAL(10, 2)"), Column("qty", "INT"))


def test_types_are_upper_cased_and_whitespace_collapsed() -> None:
    cols = parse_columns("  `id`   string  not   null ,\n amount decimal(10,2)")
    assert cols == (Column("id", "STRING NOT NULL"), Column("amount", "DECIMAL(10,2)"))


def test_not_null_is_kept() -> None:
    (col,) = parse_columns("id BIGINT NOT NULL")
    assert col.type == "BIGINT NOT NULL"


def test_trailing_comma_is_ignored() -> None:
    assert parse_columns("a INT,") == (Column("a", "INT"),)


@pytest.mark.parametrize("spec", ["a INT, a STRING", "a INT, A STRING"])
def test_duplicate_columns_refused(spec: str) -> None:
    with pytest.raises(SchemaError, match="appears twice"):
        parse_columns(spec)


@pytest.mark.parametrize("type_", ["MAP<STRING, INT>", "JSON", "ARRAY<INT>", "ROW(a INT)"])
def test_unknown_types_refused_with_the_accepted_list(type_: str) -> None:
    with pytest.raises(SchemaError) as info:
        parse_columns(f"x {type_}")
    message = str(info.value)
    assert "'x'" in message
    assert "does not map from JSON" in message
    assert "TIMESTAMP(3)" in message


@pytest.mark.parametrize(
    "spec",
    [
        "a STRING) WITH ('connector'='filesystem",
        "a STRING, b INT) WITH ('connector' = 'filesystem', 'path' = '/tmp') --",
        "a STRING COMMENT 'x'",
        "a STRING; DROP TABLE y",
        "a`b STRING",
        "a STRING /* c */",
    ],
)
def test_injection_attempts_refused(spec: str) -> None:
    with pytest.raises(SchemaError):
        parse_columns(spec)


@pytest.mark.parametrize("spec", ["", "  ", ",", " , , "])
def test_empty_schema_refused(spec: str) -> None:
    with pytest.raises(SchemaError, match="empty"):
        parse_columns(spec)


def test_entry_without_type_refused() -> None:
    with pytest.raises(SchemaError, match="needs a name and a type"):
        parse_columns("id STRING, amount")


def test_bad_column_name_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="not a valid column name"):
        parse_columns("1st STRING")


def test_format_columns_quotes_names() -> None:
    cols = parse_columns("id STRING, price DECIMAL(10, 2)")
    assert format_columns(cols) == "`id` STRING, `price` DECIMAL(10, 2)"


COLS = parse_columns("id STRING, ts TIMESTAMP(3), lts TIMESTAMP_LTZ(3), t6 TIMESTAMP(6), d DATE")


@pytest.mark.parametrize("name", [None, "ts", "lts"])
def test_check_event_time_accepts(name: str | None) -> None:
    check_event_time(COLS, name)  # no SchemaError
    assert name is None or name in {c.name for c in COLS}


def test_check_event_time_missing_column_names_the_schema() -> None:
    with pytest.raises(SchemaError) as info:
        check_event_time(COLS, "event_ts")
    assert "'event_ts' is not in the schema" in str(info.value)
    assert "id, ts, lts, t6, d" in str(info.value)


@pytest.mark.parametrize("name", ["id", "t6", "d"])
def test_check_event_time_wrong_type(name: str) -> None:
    with pytest.raises(SchemaError, match=r"must be TIMESTAMP\(3\) or TIMESTAMP_LTZ\(3\)"):
        check_event_time(COLS, name)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("30 s", 30_000),
        ("5 min", 300_000),
        ("500 ms", 500),
        ("1 h", 3_600_000),
        ("2h", 7_200_000),
        (" 10 Seconds ", 10_000),
        ("0 s", 0),
        ("7d", 604_800_000),
        ("1 day", 86_400_000),
        ("2 days", 172_800_000),
    ],
)
def test_parse_duration_ms(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["soon", "30 parsecs", "", "30", "s", "-5 s", "1.5 s", "5 min 3"])
def test_parse_duration_ms_refuses_with_examples(text: str) -> None:
    with pytest.raises(SchemaError) as info:
        parse_duration_ms(text)
    assert "is not a duration" in str(info.value)
    assert "'30 s'" in str(info.value)
