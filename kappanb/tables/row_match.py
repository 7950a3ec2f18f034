"""Which rows of a table's data files a polars condition matches, read one file at a time
and only in the columns the condition names: the memory a delete or a count needs is one
file's condition columns, not the table.

A condition polars evaluates row by row (``driver_id = 'd42'``, ``fare > 10 AND city IS
NULL``) gives each file's matches from that file alone. One with an aggregate or a window
(``fare = max(fare)``, ``... OVER (...)``) means the whole table, so its columns are read
from every file first and it is evaluated once over all of them (then the memory is the
condition's columns of the whole table, still not its rows). Which kind a condition is,
polars says: it pushes a predicate into a parquet scan only when it holds row by row, the
same property (`row_wise`); anything it does not push is taken as whole-table, which is
never wrong, only slower.

A row-wise condition given with its SQL text is also checked against each file's column
bounds in the manifest first, as Iceberg's own scan planning does (pyiceberg's inclusive
metrics evaluator): a file whose bounds exclude every match is not read at all. Only
conditions whose reading by pyiceberg's parser means what polars means are used so
(comparisons, ``IN``, ``IS NULL``, ``AND``/``OR``/``NOT`` of a string column with a string
or an integer column with an integer); any other condition reads every file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]

from kappanb.tables.merge_read import FileRef, read_data_files

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile, ManifestEntry
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table

_MATCH = "__kappanb_match"


def row_wise(condition: pl.Expr, schema: pl.Schema) -> bool:
    """Whether ``condition`` holds row by row over a frame of ``schema`` (no aggregate, no
    window): polars pushes it into a parquet scan, whose row groups it filters one by one,
    only then. Asked of an empty parquet file in memory; no table is read."""
    empty = io.BytesIO()
    pl.DataFrame(schema=schema).write_parquet(empty)
    try:
        plan = pl.scan_parquet(empty.getvalue()).filter(condition).explain()
    except pl.exceptions.PolarsError:
        return False  # the evaluation says why (`ConditionScan.masks`)
    first = plan.lstrip().splitlines()[0] if plan.strip() else ""
    return "SELECTION:" in plan and not first.startswith("FILTER")


@dataclass
class ConditionScan:
    """The condition's matches in data files of ``table``, file by file (see the module's
    docstring); for a whole-table condition, each file's condition columns are kept
    between calls, so a second pass (a delete's retry) reads only the files new to it."""

    table: Table
    condition: pl.Expr
    text: str | None = None
    """The condition's SQL text, to skip files by their column bounds (`might_match`)."""
    row_wise: bool = field(init=False)
    _schema: Schema = field(init=False)
    _columns: dict[str, Any] = field(init=False, default_factory=dict)
    _might: Callable[[DataFile], bool] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        full = self.table.schema()
        names = [f.name for f in full.fields]
        wanted = set(self.condition.meta.root_names())
        # At least one column, so that a file's rows are counted (``count(*)`` reads none).
        chosen = [n for n in names if n in wanted] or names[:1]
        self._schema = full.select(*chosen)
        empty = pl.from_arrow(_arrow_schema(self._schema).empty_table())
        assert isinstance(empty, pl.DataFrame)
        self.row_wise = row_wise(self.condition, empty.schema)
        self._might = might_match(self.text, full) if self.row_wise else None

    def masks(
        self, entries: Sequence[ManifestEntry], skip: Container[str] = ()
    ) -> Iterator[tuple[ManifestEntry, pl.Series]]:
        """Per data file of ``entries``, which of its rows match: row by row, the files
        whose path is in ``skip`` are left out (their matches cannot have changed);
        whole-table, every file is given, from the condition over all of them."""
        if self.row_wise:
            for entry in entries:
                if entry.data_file.file_path in skip:
                    continue
                if self._might is not None and not self._might(entry.data_file):
                    rows = entry.data_file.record_count
                    yield entry, pl.repeat(False, rows, dtype=pl.Boolean, eager=True)
                    continue
                yield entry, self._evaluate([self._read(entry)])[0]
            return
        live = {e.data_file.file_path for e in entries}
        for path in [p for p in self._columns if p not in live]:
            del self._columns[path]
        for entry in entries:
            path = entry.data_file.file_path
            if path not in self._columns:
                self._columns[path] = self._read(entry)
        files = [self._columns[e.data_file.file_path] for e in entries]
        yield from zip(entries, self._evaluate(files), strict=True)

    def count(self, entries: Sequence[ManifestEntry]) -> int:
        """How many rows of ``entries`` match."""
        return sum(int(mask.sum()) for _entry, mask in self.masks(entries))

    def _read(self, entry: ManifestEntry) -> Any:
        return read_columns(self.table, entry, self._schema)

    def _evaluate(self, files: list[Any]) -> list[pl.Series]:
        """The condition over the files' rows at once, split back per file (NULL: no
        match; a constant, as a condition on no column gives, holds for every row)."""
        whole = pl.from_arrow(
            pa.concat_tables(files) if files else _arrow_schema(self._schema).empty_table()
        )
        assert isinstance(whole, pl.DataFrame)
        mask = whole.select(self.condition.fill_null(False).alias(_MATCH)).to_series()
        if mask.len() == 1 and whole.height != 1:
            mask = pl.Series(_MATCH, [bool(mask[0])] * whole.height)
        out, start = [], 0
        for file in files:
            out.append(mask.slice(start, file.num_rows))
            start += file.num_rows
        return out


def might_match(text: str | None, schema: Schema) -> Callable[[DataFile], bool] | None:
    """From the condition's SQL text, whether a data file's column bounds let a row of it
    match; None when pyiceberg's reading of the text may differ from polars' (see the
    module's docstring)."""
    if not text:
        return None
    try:
        from pyiceberg.expressions.parser import parse
        from pyiceberg.expressions.visitors import _InclusiveMetricsEvaluator

        expression = parse(text)
        if not _plain_words(text, schema) or not _same_meaning(expression, schema):
            return None
        evaluator = _InclusiveMetricsEvaluator(schema, expression, case_sensitive=True)
    except Exception:  # not pyiceberg's syntax, or a column it cannot bind
        return None

    def check(file: DataFile) -> bool:
        try:
            return bool(evaluator.eval(file))
        except Exception:  # bounds it cannot read: the file is read
            return True

    return check


_PLAIN_WORDS = frozenset({"and", "or", "not", "in", "is", "null"})
_WORD = re.compile(r"'(?:[^']|'')*'|([A-Za-z_][A-Za-z0-9_]*)")


def _plain_words(text: str, schema: Schema) -> bool:
    """Whether every word of ``text`` outside its strings is a column or one of the few
    operators both read alike: pyiceberg reads ``k LIKE 'd4_'`` as ``k = 'd4_'``, which
    polars does not, and its tree no longer shows the LIKE."""
    columns = {f.name for f in schema.fields}
    words = (m.group(1) for m in _WORD.finditer(text) if m.group(1))
    return all(w in columns or w.lower() in _PLAIN_WORDS for w in words)


def _same_meaning(expression: Any, schema: Schema) -> bool:
    """Whether pyiceberg's tree means what polars does: the operators and literal types
    the module's docstring lists, on top-level columns of ``schema``."""
    from pyiceberg.expressions import (
        And,
        LiteralPredicate,
        Not,
        Or,
        SetPredicate,
        StartsWith,
        UnaryPredicate,
    )

    if isinstance(expression, And | Or):
        return _same_meaning(expression.left, schema) and _same_meaning(expression.right, schema)
    if isinstance(expression, Not):
        return _same_meaning(expression.child, schema)
    if isinstance(expression, StartsWith) or getattr(expression, "term", None) is None:
        return False  # LIKE (kept out by `_plain_words` too)
    field_type = _column_type(expression.term, schema)
    if isinstance(expression, UnaryPredicate):
        return field_type is not None
    if isinstance(expression, LiteralPredicate):
        return _fits(field_type, expression.literal)
    if isinstance(expression, SetPredicate):
        return all(_fits(field_type, lit) for lit in expression.literals)
    return False


def _column_type(term: Any, schema: Schema) -> Any:
    from pyiceberg.expressions import Reference

    if not isinstance(term, Reference):
        return None
    found = next((f for f in schema.fields if f.name == term.name), None)
    return None if found is None else found.field_type


def _fits(field_type: Any, literal: Any) -> bool:
    """A string literal for a string column, an integer in range for an integer one."""
    from pyiceberg.expressions.literals import LongLiteral, StringLiteral
    from pyiceberg.types import IntegerType, LongType, StringType

    if isinstance(field_type, StringType):
        return isinstance(literal, StringLiteral)
    if isinstance(field_type, LongType):
        return isinstance(literal, LongLiteral)
    if isinstance(field_type, IntegerType):
        return isinstance(literal, LongLiteral) and -(2**31) <= literal.value < 2**31
    return False


def read_columns(table: Table, entry: ManifestEntry, schema: Schema) -> Any:
    """One data file's columns of ``schema`` (a selection of the table's), as pyarrow."""
    ref = FileRef(entry.data_file.file_path, 0, 0, None)
    ((_ref, rows),) = read_data_files(table, [ref], schema)
    return rows


def file_frames(
    table: Table, entries: Sequence[ManifestEntry], names: Sequence[str]
) -> Iterator[tuple[ManifestEntry, pl.DataFrame]]:
    """Each data file's columns ``names``, one file at a time."""
    schema = table.schema().select(*names)
    for entry in entries:
        frame = pl.from_arrow(read_columns(table, entry, schema))
        assert isinstance(frame, pl.DataFrame)
        yield entry, frame


def _arrow_schema(schema: Schema) -> pa.Schema:
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    return schema_to_pyarrow(schema, include_field_ids=False)
