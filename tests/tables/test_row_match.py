"""Which conditions hold row by row (kappanb.tables.row_match): those are evaluated file by
file; anything else over the whole table, which is never wrong."""

from __future__ import annotations

import polars as pl
import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import IntegerType, LongType, NestedField, StringType, TimestamptzType

from kappanb.tables.row_match import might_match, row_wise

SCHEMA = pl.Schema({"k": pl.String, "n": pl.Int64, "ts": pl.Datetime("us", "UTC")})


@pytest.mark.parametrize(
    "condition",
    [
        "k = 'd42'",
        "k IN ('a', 'b') OR n IS NULL",
        "upper(k) LIKE 'D4%' AND n + 1 > 2",
        "coalesce(n, 0) BETWEEN 1 AND 5",
        "ts < TIMESTAMP '2026-03-04 12:00:00'",
    ],
)
def test_a_condition_on_each_row_alone_is_row_wise(condition: str) -> None:
    assert row_wise(pl.sql_expr(condition), SCHEMA)


@pytest.mark.parametrize(
    "condition",
    [
        "n = max(n)",
        "n > avg(n)",
        "k = 'a' AND n = first(n)",
        "n = count(*)",
        "row_number() OVER (ORDER BY n) = 1",
    ],
)
def test_an_aggregate_or_a_window_means_the_whole_table(condition: str) -> None:
    assert not row_wise(pl.sql_expr(condition), SCHEMA)


BOUNDED = Schema(
    NestedField(1, "k", StringType()), NestedField(2, "n", LongType()),
    NestedField(3, "p", IntegerType()), NestedField(4, "ts", TimestamptzType()),
)  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "k = 'd42'",
        "k IN ('a', 'b') AND n > 3",
        "NOT (p = 1) OR k IS NULL",
        "n <= -2",
        "k = 'it''s like that'",
    ],
)
def test_bounds_are_used_where_pyiceberg_reads_the_text_as_polars_does(text: str) -> None:
    assert might_match(text, BOUNDED) is not None


@pytest.mark.parametrize(
    "text",
    [
        None,
        "k LIKE 'd4_'",  # '_' is any character to polars, pyiceberg reads k = 'd4_'
        "k like 'd4%'",
        "k BETWEEN 'a' AND 'b'",
        "n = 1.5",  # a decimal against an integer column
        "p = 3000000000",  # outside an INT
        "k = 1",
        "ts < '2026-03-04'",  # a string read as a time by one, not the other
        "upper(k) = 'D42'",  # not pyiceberg's syntax
        "missing = 'x'",
    ],
)
def test_any_other_text_reads_every_file(text: str | None) -> None:
    assert might_match(text, BOUNDED) is None
