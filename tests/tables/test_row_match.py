"""Which conditions hold row by row (kappanb.tables.row_match): those are evaluated file by
file; anything else over the whole table, which is never wrong."""

from __future__ import annotations

import polars as pl
import pytest

from kappanb.tables.row_match import row_wise

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
