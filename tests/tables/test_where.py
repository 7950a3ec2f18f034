"""A --where checked against a table's columns before anything is read or changed."""

from __future__ import annotations

import polars as pl
import pytest

from kappanb.exceptions import WhereError
from kappanb.tables.where import check_where, parse_where

ARCHIVE = {
    "kafka_partition": pl.Int32(), "kafka_offset": pl.Int64(), "kafka_key": pl.Binary(),
    "driver_id": pl.String(), "fare": pl.Int64(),
}  # fmt: skip


def test_a_condition_names_its_columns_and_filters_nulls_out() -> None:
    where = parse_where("driver_id = 'd42' AND fare > 10")
    assert where.columns == ("driver_id", "fare") and where.holds_on(ARCHIVE)
    check_where(where, ARCHIVE, "archive__rides")
    assert not where.holds_on({"driver_id": pl.String()})
    frame = pl.DataFrame({"driver_id": ["d42", None, "d42"], "fare": [11, 20, 5]})
    assert frame.filter(where.expr).height == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("driver_id =", "does not parse as a SQL condition"),
        ("  ", "--where is empty"),
        ("1 = 1", "names no column, so it would match every row or none"),
        ("TRUE", "names no column"),
    ],
)
def test_what_is_no_condition_is_refused(text: str, says: str) -> None:
    with pytest.raises(WhereError, match=says):
        parse_where(text)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("rider = 'd1'", "names rider, which archive__rides does not have; its columns: "
         "kafka_partition, kafka_offset"),
        ("driver_id = 3", "does not fit the types of archive__rides's columns"),
        ("fare + 1", "is a Int64, not a condition"),
    ],
)  # fmt: skip
def test_a_condition_the_table_cannot_answer_is_refused(text: str, says: str) -> None:
    with pytest.raises(WhereError, match=says.replace("(", r"\(")):
        check_where(parse_where(text), ARCHIVE, "archive__rides")
