"""`sql` over outputs: names bound to tables, only those the query mentions (no I/O)."""

from __future__ import annotations

import polars as pl
import pytest

from kappanb.exceptions import QueryError
from kappanb.tables.query import run_query

TABLES = {
    "daily": pl.LazyFrame({"day": [1, 2, 3], "n": [10, 20, 30]}),
    "daily__v1": pl.LazyFrame({"day": [1, 2, 3], "n": [11, 20, 29]}),
    "other": pl.LazyFrame({"x": [1]}),
}


def test_a_query_joins_the_outputs_it_names_and_opens_only_those() -> None:
    opened: list[str] = []

    def open_table(name: str) -> pl.LazyFrame:
        opened.append(name)
        return TABLES[name]

    result = run_query(
        "SELECT d.day, d.n - v.n AS delta FROM daily d JOIN daily__v1 v ON d.day = v.day "
        "ORDER BY d.day", TABLES, open_table,
    )  # fmt: skip
    assert result.to_dict(as_series=False) == {"day": [1, 2, 3], "delta": [-1, 0, 1]}
    assert sorted(opened) == ["daily", "daily__v1"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("  ", "the query is empty"),
        ("SELECT * FROM nowhere", "reads no job's output; jobs and tables: daily, daily__v1"),
        ("SELECT nope FROM daily", "the query failed"),
        ("SELEC * FROM daily", "the query failed"),
    ],
)
def test_wrong_queries_are_explained(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        run_query(query, TABLES, TABLES.__getitem__)
