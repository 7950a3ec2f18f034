"""PyFlink jobs: a cell of Table API code (with Python UDFs) instead of SQL.

The cell runs with ``t_env`` (a TableEnvironment where every declared topic is a
table) and must assign its output Table to ``result``, for example::

    @udf(result_type=DataTypes.STRING())
    def size(amount: int) -> str:
        return "large" if amount >= 10_000 else "small"

    t_env.create_temporary_function("size", size)
    result = t_env.sql_query("SELECT size(amount_cents) AS size, COUNT(*) AS n "
                             "FROM payments GROUP BY size(amount_cents)")

The same code is run again when the version is submitted, so it must not depend on
state outside the cell. It runs in the client (the kernel or the CLI process).
"""

from __future__ import annotations

import traceback
from typing import Any

from kappanb.exceptions import JobDefinitionError

PRELUDE = {
    "DataTypes": "pyflink.table",
    "udf": "pyflink.table.udf",
    "udaf": "pyflink.table.udf",
    "udtf": "pyflink.table.udf",
    "col": "pyflink.table.expressions",
    "lit": "pyflink.table.expressions",
}


def compiled(code: str, job: str) -> Any:
    """The cell compiled (nothing run), or a JobDefinitionError naming the line that does
    not parse: checked before anything needs Flink."""
    try:
        return compile(code, f"<job {job}>", "exec")
    except SyntaxError as exc:
        raise JobDefinitionError(
            f"the Python job does not parse: {exc.msg} (line {exc.lineno} of the cell)"
        ) from None


def run_cell(tenv: Any, code: str, job: str) -> Any:
    """Execute the cell and return its ``result`` Table; explain failures by cell line."""
    import importlib

    from pyflink.table import Table

    namespace: dict[str, Any] = {"t_env": tenv, "__name__": f"kappanb_job_{job}"}
    for name, module in PRELUDE.items():
        namespace[name] = getattr(importlib.import_module(module), name)
    code_object = compiled(code, job)
    try:
        exec(code_object, namespace)
    except Exception as exc:
        raise JobDefinitionError(_explain(exc, job)) from None
    result = namespace.get("result")
    if not isinstance(result, Table):
        raise JobDefinitionError(
            "a --python job must assign its output Table to `result` "
            f"(got {type(result).__name__}); e.g. result = t_env.sql_query('SELECT ...')"
        )
    return result


def _explain(exc: Exception, job: str) -> str:
    from kappanb.flink.errors import flink_error_message

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == f"<job {job}>"]
    where = f" (line {frames[-1].lineno} of the cell)" if frames else ""
    return f"the Python job failed{where}: {flink_error_message(exc)}"
