"""A SQL condition (``--where "driver_id = 'd42'"``) as a polars expression, checked
against a table's columns before anything reads or changes the table.

polars parses it (``pl.sql_expr``, as `diff --where` does); it must name at least one
column, every column it names must be the table's, and it must be a condition (a boolean)
on their types. A condition naming no column would match every row or none: a deletion
request says what to delete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from kappanb.exceptions import WhereError


@dataclass(frozen=True)
class Where:
    """A checked condition: its text, the polars expression and the columns it names."""

    text: str
    expr: pl.Expr
    columns: tuple[str, ...]

    def holds_on(self, schema: Mapping[str, pl.DataType]) -> bool:
        """Whether a table with ``schema`` has every column the condition names."""
        return set(self.columns) <= set(schema)


def parse_where(text: str) -> Where:
    """The condition's expression and the columns it names, or why it is not one."""
    if not text.strip():
        raise WhereError(
            "--where is empty: give a SQL condition on the archive's columns, e.g. "
            "--where \"driver_id = 'd42'\""
        )
    try:
        expr = pl.sql_expr(text)
    except Exception as exc:
        first = _first_line(exc)
        raise WhereError(
            f"--where {text!r} does not parse as a SQL condition ({first}); quote strings "
            "with single quotes: --where \"driver_id = 'd42'\""
        ) from None
    columns = tuple(dict.fromkeys(expr.meta.root_names()))
    if not columns:
        raise WhereError(
            f"--where {text!r} names no column, so it would match every row or none: name "
            "the column(s) that say what to delete, e.g. --where \"driver_id = 'd42'\""
        )
    return Where(text, expr, columns)


def check_where(where: Where, schema: Mapping[str, pl.DataType], table: str) -> None:
    """Refuse a condition that names a column ``table`` lacks, or is not a condition on
    its columns' types (evaluated on an empty frame: no row is read)."""
    unknown = [c for c in where.columns if c not in schema]
    if unknown:
        raise WhereError(
            f"--where {where.text!r} names {', '.join(unknown)}, which {table} does not have; "
            f"its columns: {', '.join(schema)}"
        )
    try:
        # Eagerly on no rows: polars checks the operands' types only when it evaluates.
        dtype = pl.DataFrame(schema=dict(schema)).select(where.expr).dtypes[0]
    except Exception as exc:
        first = _first_line(exc)
        raise WhereError(
            f"--where {where.text!r} does not fit the types of {table}'s columns: {first} "
            "(write dates as DATE '2026-03-04', times as TIMESTAMP '2026-03-04 12:00:00')"
        ) from None
    if dtype != pl.Boolean:
        raise WhereError(
            f"--where {where.text!r} is a {dtype}, not a condition: compare a column with a "
            "value, e.g. --where \"driver_id = 'd42'\""
        )


def _first_line(exc: Exception) -> str:
    """What polars said, first line (its messages go on with hints and plans)."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
