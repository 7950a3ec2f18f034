"""`diff`: read two versions' output tables and compare what both have finalised.

A version still catching up has not finalised the keys beyond its watermark (for a
job keyed by a day or a window); those are reported apart, not as differences.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kappanb.compare import Diff, diff_outputs
from kappanb.exceptions import CompareError
from kappanb.flink.rest import FlinkRest
from kappanb.jobs import definitions
from kappanb.jobs.control import RunControl
from kappanb.monitor.sample import flink_figures
from kappanb.registry.records import JobVersion, RunRecord
from kappanb.registry.store import Registry
from kappanb.tables.catalog import table_exists
from kappanb.tables.read import scan_table


def compare_versions(
    control: RunControl, job: str, old: int, new: int, *, key: Sequence[str] | None = None,
    where: str | None = None, tolerance: float = 0.0,
) -> Diff:  # fmt: skip
    versions, columns = check_diff(control.registry, job, old, new, key)
    runs = [_output_run(control, v) for v in versions]
    frames = [_read(control, run, where) for run in runs]
    marks = [_watermark(control, run) for run in runs]
    return diff_outputs(
        frames[0], frames[1], columns, old_watermark_ms=marks[0], new_watermark_ms=marks[1],
        tolerance=tolerance, old_label=versions[0].label, new_label=versions[1].label, job=job,
    )  # fmt: skip


def check_diff(
    registry: Registry, job: str, old: int, new: int, key: Sequence[str] | None
) -> tuple[list[JobVersion], list[str]]:
    """The two versions and the key columns to compare them by, or why not (no stack)."""
    versions = [definitions.find_version(registry, job, n) for n in (old, new)]
    if old == new:
        raise CompareError(
            f"compare two different versions of {job}, not v{old} with itself "
            f"(e.g. `diff {job} v{old} v{old + 1}`)"
        )
    return versions, list(key) if key else _default_key(versions)


def _default_key(versions: list[JobVersion]) -> list[str]:
    keys = [v.key for v in versions if v.key]
    if not keys:
        raise CompareError(
            "these versions write rows without a key (append-only output): give the columns "
            "that identify a row with --key COL [COL ...]"
        )
    if len({tuple(k) for k in keys}) > 1:
        raise CompareError(
            f"the versions have different keys ({' vs '.join(', '.join(k) for k in keys)}): "
            "choose with --key COL [COL ...]"
        )
    return list(keys[0])


def _output_run(control: RunControl, version: JobVersion) -> RunRecord:
    runs = control.launcher.reconciled(version.job, version.version)
    if not runs:
        raise CompareError(
            f"{version.job} {version.label} has never run, so it has no output: "
            f"`replay {version.job} {version.label}` first"
        )
    run = runs[-1]
    if not table_exists(control.endpoints.catalog, run.table):
        raise CompareError(
            f"{version.job} {version.label}'s table {run.table} was dropped (retire --drop), "
            "so it has no output to compare: replay it again to rebuild it"
        )
    return run


def _read(control: RunControl, run: RunRecord, where: str | None) -> pl.DataFrame:
    frame = scan_table(control.endpoints.catalog, run.table)
    if where:
        try:
            frame = frame.filter(pl.sql_expr(where))
        except Exception as exc:
            raise CompareError(
                f"--where {where!r} is not a condition polars can use: {exc}"
            ) from None
    try:
        return frame.collect()
    except pl.exceptions.PolarsError as exc:
        hint = (
            " (write dates as DATE '2026-03-04', times as TIMESTAMP '2026-03-04 12:00:00')"
            if "date" in str(exc).lower()
            else ""
        )
        first = str(exc).splitlines()[0]
        raise CompareError(f"--where {where!r} on {run.table} failed: {first}{hint}") from None


def _watermark(control: RunControl, run: RunRecord) -> int | None:
    """The running version's watermark now; None when it ended (all it wrote is final)."""
    if not run.active:
        return None
    figures = flink_figures(FlinkRest(control.endpoints.flink_rest_url), run.flink_job_id)
    watermark = figures["watermark"]
    return int(watermark) if watermark is not None else -1
