"""`sql`: a SQL query over the jobs' outputs, each job name read through its serving alias.

Run by polars' SQL engine in the notebook's process. A job's name stands for the table its
serving alias points at (resolved once per query); ``JOB__vN`` names a version's table.
Only the tables the query mentions are opened.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import polars as pl

from kappanb.exceptions import QueryError


def run_query(
    query: str, names: Iterable[str], open_table: Callable[[str], pl.LazyFrame]
) -> pl.DataFrame:
    """Run ``query`` with every name of ``names`` that it mentions bound to its table."""
    if not query.strip():
        raise QueryError("the query is empty: write a SELECT over job names after `sql`")
    words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", query)}
    frames = {name: open_table(name) for name in names if name.lower() in words}
    if not frames:
        known = ", ".join(sorted(names)) or "none yet"
        raise QueryError(
            f"the query reads no job's output; jobs and tables: {known} (FROM a job's name "
            "reads its serving version, FROM JOB__vN one version's table)"
        )
    try:
        return pl.SQLContext(frames).execute(query, eager=True)
    except pl.exceptions.PolarsError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise QueryError(f"the query failed: {first}") from None
