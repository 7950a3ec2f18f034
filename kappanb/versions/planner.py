"""Plan a job's SQL with Flink before recording it: output columns, append or updating, key.

A cell is optional setup (views, functions) followed by one SELECT. Flink's planner
validates it against the declared topics; a rejected cell raises `JobDefinitionError`
with the planner's message and the offending line, and nothing is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kappanb.core.names import check_column_name
from kappanb.core.schema import Column
from kappanb.core.sqltext import (
    Statement,
    cell_line,
    column_hint,
    keyword_hint,
    offending_line,
    statements,
)
from kappanb.exceptions import InvalidNameError, JobDefinitionError
from kappanb.flink.errors import flink_error_message
from kappanb.versions.ddl import output_columns

_CHANGELOG = re.compile(r"changelogMode=\[([A-Z,]+)\]")
_SCAN = re.compile(r"TableSourceScan\(table=\[\[[^,\]]+, [^,\]]+, ([^,\]]+)")
_GROUP_BY = re.compile(r"(?:groupBy|partitionBy)=\[([^\]]*)\]")
_BEGIN_SET = re.compile(r"^\s*EXECUTE\s+STATEMENT\s+SET\s+BEGIN\b", re.I)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(`?)([A-Za-z_][A-Za-z0-9_]*)\1\s+", re.I)
_SETUP = re.compile(r"^\s*CREATE\s+(TEMPORARY\s+)?(SYSTEM\s+)?(VIEW|FUNCTION)\b", re.I)
_QUERY_START = re.compile(r"^\s*(\(\s*)*(SELECT|WITH|VALUES)\b", re.I)


@dataclass(frozen=True)
class QueryPlan:
    """What Flink's planner says about a job's final query."""

    columns: tuple[Column, ...]
    updating: bool
    key: tuple[str, ...]
    scanned: tuple[str, ...] = ()
    """The tables the plan reads (its source scans), by SQL table name."""


@dataclass(frozen=True)
class CellParts:
    """A job cell: setup statements, then the queries whose rows make the output."""

    setup: list[Statement]
    queries: list[Statement]

    @property
    def query(self) -> Statement:
        """The output as one query: the SELECT, or the statement set's SELECTs in a UNION ALL."""
        if len(self.queries) == 1:
            return self.queries[0]
        union = "\nUNION ALL\n".join(f"SELECT * FROM (\n{q.text}\n)" for q in self.queries)
        return Statement(union, self.queries[0].first_line)


ParseError = Callable[[str], str]
"""Flink's parse error for a statement's text, '' when it parses (or Flink is not at hand)."""


def split_cell(cell: str, job: str | None = None, parse: ParseError | None = None) -> CellParts:
    """Setup (views, functions), then one SELECT or a statement set of INSERT INTO ``job``.

    ``parse`` adds Flink's own parse error to the message for a last statement that is
    not a query."""
    found = statements(cell)
    for i, statement in enumerate(found):
        if begin := _BEGIN_SET.match(statement.text):
            found[i] = _after(statement, begin)
    if found and found[-1].text.upper() == "END":
        found = found[:-1]
    if not found:
        raise JobDefinitionError("the cell is empty: write a SELECT over your declared topics")
    inserts = [s for s in found if s.text.split(None, 1)[0].upper() == "INSERT"]
    if inserts:
        setup = found[: found.index(inserts[0])]
        rest = found[len(setup) :]
        queries = [_insert_query(s, job) for s in rest]
    else:
        *setup, query = found
        queries = [query]
        if not _QUERY_START.match(query.text):
            raise JobDefinitionError(_not_a_query(query, cell, parse))
    for statement in setup:
        if not _SETUP.match(statement.text):
            raise JobDefinitionError(
                f"line {statement.first_line}: before the job's SELECT a cell may only create "
                "views and functions (CREATE TEMPORARY VIEW / FUNCTION)"
            )
    return CellParts(setup, queries)


def _not_a_query(query: Statement, cell: str, parse: ParseError | None) -> str:
    """Why the last statement is refused: a near-miss keyword; with Flink at hand, its
    parse error and the statement's line in the cell."""
    hint = keyword_hint(query)
    first_word = query.text.split(None, 1)[0]
    message = (
        f"the last statement (line {query.first_line}) must be the job's SELECT; views and "
        "functions may come before it" + (f". It starts with {first_word}: {hint}" if hint else "")
    )
    flink = parse(query.text) if parse else ""
    if not flink:
        return message  # one line, as the CLI prints it
    where = cell_line(cell, query.first_line, query.first_column)
    return "\n".join([message, f"Flink's parser: {flink}", where]).strip()


def flink_parser(tenv: Any) -> ParseError:
    """Flink's parse error for a statement, from the table environment's SQL parser."""

    def parse(text: str) -> str:
        try:
            tenv._j_tenv.getParser().parse(text)
        except Exception as exc:
            return flink_error_message(exc)
        return ""

    return parse


def _after(statement: Statement, match: re.Match[str] | None) -> Statement:
    """The statement without the text ``match`` covered at its start."""
    end = match.end() if match else 0
    rest = statement.text[end:]
    skipped = statement.text[:end] + rest[: len(rest) - len(rest.lstrip())]
    return Statement(rest.strip(), statement.first_line + skipped.count("\n"))


def _insert_query(statement: Statement, job: str | None) -> Statement:
    match = _INSERT.match(statement.text)
    target = match.group(2) if match else ""
    if not match or (job is not None and target != job):
        where = f"line {statement.first_line}"
        raise JobDefinitionError(
            f"{where}: a statement set writes the job's own output, so every statement after "
            f"the setup must be INSERT INTO {job or 'NAME'} SELECT ... (kappanb stores it in "
            "NAME__vN); or end the cell with one SELECT"
        )
    return _after(statement, match)


def plan_query(
    tenv: Any, sources: Sequence[str], cell: str, key: Sequence[str] | None = None,
    job: str | None = None, columns: Sequence[str] = (),
) -> QueryPlan:  # fmt: skip
    """Run the generated source DDL and the cell's setup, then plan its query (or queries).
    ``columns``: the sources' column names, for a hint when Flink finds no such column."""
    parts = split_cell(cell, job, flink_parser(tenv))
    for ddl in sources:
        _run(tenv.execute_sql, ddl, None, cell)
    for statement in parts.setup:
        _run(tenv.execute_sql, statement.text, statement, cell, columns)
    for query in parts.queries:  # each on its own first, so an error names its line
        table = _run(tenv.sql_query, query.text, query, cell, columns)
    if len(parts.queries) > 1:
        table = _run(tenv.sql_query, parts.query.text, None, cell, columns)
    return _plan_of(table, key)


def plan_python(
    tenv: Any, sources: Sequence[str], code: str, job: str, key: Sequence[str] | None = None
) -> QueryPlan:
    """Run the generated source DDL, then the Python cell; plan the Table it assigns to result."""
    from kappanb.versions.python_job import run_cell

    for ddl in sources:
        _run(tenv.execute_sql, ddl, None, code)
    return _plan_of(run_cell(tenv, code, job), key)


def _plan_of(table: Any, key: Sequence[str] | None) -> QueryPlan:
    from pyflink.table.explain_detail import ExplainDetail

    schema = table._j_table.getResolvedSchema()
    columns = output_columns(
        tuple(Column(str(c.getName()), str(c.getDataType())) for c in schema.getColumns())
    )
    for column in columns:
        try:
            check_column_name(column.name, "output column")
        except InvalidNameError as exc:
            raise JobDefinitionError(
                f"{exc}; give every computed column a plain alias (... AS total)"
            ) from None
    plan = _run(lambda t: t.explain(ExplainDetail.CHANGELOG_MODE), table, None, "")
    updating = _root_is_updating(plan)
    scanned = tuple(
        dict.fromkeys(m.group(1) for m in _SCAN.finditer("\n".join(_physical_plan(plan))))
    )
    return QueryPlan(columns, updating, _key(plan, columns, key, updating), scanned)


def _run(
    call: Any, arg: Any, statement: Statement | None, cell: str, columns: Sequence[str] = ()
) -> Any:
    try:
        return call(arg)
    except Exception as exc:
        message = rejected(flink_error_message(exc), statement, cell, columns)
        raise JobDefinitionError(message) from None


def rejected(
    message: str, statement: Statement | None, cell: str, columns: Sequence[str] = ()
) -> str:
    """What a refused job says: Flink's message (with a near column name when it found no
    such column), then the cell's line with a caret where Flink points."""
    hint = column_hint(message, columns)
    where = offending_line(message, statement, cell) if statement else ""
    return (
        f"Flink rejected the job: {message}"
        + (f"; {hint}" if hint else "")
        + (f"\n{where}" if where else "")
    )


def _physical_plan(plan: str) -> list[str]:
    part = plan.split("== Optimized Physical Plan ==", 1)[-1]
    part = part.split("== Optimized Execution Plan ==", 1)[0]
    return [line for line in part.splitlines() if line.strip()]


def _root_is_updating(plan: str) -> bool:
    for line in _physical_plan(plan):
        mode = _CHANGELOG.search(line)
        if mode:
            return mode.group(1) != "I"
    return False


def _node(line: str) -> str:
    """A plan line without its tree drawing: ``+- Calc(select=[...])`` -> ``Calc(...)``."""
    return line.strip().lstrip("+-: ").strip()


def _root_group_key(lines: list[str]) -> tuple[str, ...] | None:
    """Output names of the GROUP BY key, when the root is a group aggregate (maybe under a Calc).

    Anything else (Top-N, joins, deduplication) has no key kappanb can be sure of: None.
    """
    nodes = [_node(line) for line in lines[:2]]
    projection: dict[str, list[str]] | None = None
    if nodes and nodes[0].startswith("Calc("):
        projection = _projection(nodes[0])
        nodes = nodes[1:]
    if not nodes or not nodes[0].startswith(("GroupAggregate(", "GlobalGroupAggregate(")):
        return None
    found = _GROUP_BY.search(nodes[0])
    groups = [g.strip() for g in found.group(1).split(",")] if found else []
    if not groups or not all(groups):
        return None
    if projection is None:
        return tuple(groups)
    renamed = [projection.get(g, []) for g in groups]
    return tuple(r[0] for r in renamed) if all(len(r) == 1 for r in renamed) else None


def _projection(calc: str) -> dict[str, list[str]]:
    """``Calc(select=[day AS d, EXPR$1 AS n])`` -> ``{"day": ["d"], "EXPR$1": ["n"]}``."""
    match = re.search(r"select=\[(.*?)\], changelogMode=", calc)
    result: dict[str, list[str]] = {}
    depth, item = 0, ""
    for ch in (match.group(1) if match else "") + ",":
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            source, _, alias = item.strip().partition(" AS ")
            result.setdefault(source.strip(), []).append((alias or source).strip())
            item = ""
        else:
            item += ch
    return result


def _key(
    plan: str, columns: tuple[Column, ...], given: Sequence[str] | None, updating: bool
) -> tuple[str, ...]:
    names = [c.name for c in columns]
    if given:
        missing = [k for k in given if k not in names]
        if missing:
            raise JobDefinitionError(
                f"--key {', '.join(missing)} is not an output column; the output has "
                f"{', '.join(names)}"
            )
        return tuple(given)
    if not updating:
        return ()
    keys = _root_group_key(_physical_plan(plan))
    if keys and all(k in names for k in keys):
        return keys
    raise JobDefinitionError(
        "this query updates its results (its rows change as events arrive), so its output "
        "table needs a key, and kappanb could not tell which output columns identify a row: "
        f"add --key with some of {', '.join(names)}"
    )
