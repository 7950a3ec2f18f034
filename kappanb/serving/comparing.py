"""`diff`: read two versions' output tables and compare what both have finalised.

A version still catching up has not finalised the keys beyond its watermark (for a
job keyed by a day or a window); those are reported apart, not as differences.

The tables are read from the catalog's files, without the stack. Only a version whose
newest run the registry last saw in flight (running, or suspended or lost with the stack)
needs Flink: its watermark says which keys it has finalised, and where the stack is down
the diff says so (`in_flight_runs`, `check_flink_for`) rather than guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import polars as pl

from kappanb.compare import Diff, diff_outputs
from kappanb.exceptions import CompareError, StackNotRunningError
from kappanb.monitor.sample import flink_figures
from kappanb.registry.base import Registry
from kappanb.registry.kinds import RunState
from kappanb.registry.records import JobVersion, RunRecord
from kappanb.runs.runs import RunLauncher
from kappanb.stack.status import StackStatus
from kappanb.tables.catalog import Catalog, table_exists
from kappanb.tables.read import scan_table
from kappanb.versions import definitions

IN_FLIGHT_AT_DOWN: frozenset[RunState] = frozenset({"SUSPENDED", "LOST"})
"""Ended only because the stack stopped: `up` resumes them (see `lifecycle`)."""


def compare_versions(
    registry: Registry, catalog: Catalog, flink: RunLauncher | None, job: str,
    job_versions: Sequence[JobVersion], columns: Sequence[str], *, where: str | None = None,
    tolerance: float = 0.0,
) -> Diff:  # fmt: skip
    """The diff of the (old, new) ``job_versions`` by ``columns``, as `check_diff` chose them;
    ``flink`` (reconciles runs, reads watermarks) is needed only when `in_flight_runs`
    found some, and must then be given."""
    runs = [_output_run(registry, catalog, flink, v) for v in job_versions]
    frames = [_read(catalog, run, where) for run in runs]
    marks = [_watermark(flink, run) for run in runs]
    diff = diff_outputs(
        frames[0], frames[1], list(columns), old_watermark_ms=marks[0], new_watermark_ms=marks[1],
        tolerance=tolerance, old_label=job_versions[0].label, new_label=job_versions[1].label,
        job=job,
    )  # fmt: skip
    unknown = tuple(v.label for v, mark in zip(job_versions, marks, strict=True) if mark == -1)
    return replace(diff, without_watermark=unknown) if unknown else diff


def in_flight_runs(registry: Registry, job: str, versions: Iterable[int]) -> list[RunRecord]:
    """The versions' newest runs that the registry last saw running, or that stopped only
    because the stack did: only Flink knows how far they got. Reads the registry only."""
    newest = [mine[-1] for v in versions if (mine := registry.runs(job, v))]
    return [r for r in newest if r.active or r.state in IN_FLIGHT_AT_DOWN]


def check_flink_for(runs: Sequence[RunRecord], status: StackStatus) -> None:
    """Refuse, saying why, when runs in flight need a Flink cluster that is not running."""
    if status.flink_healthy:
        return
    which = "; ".join(
        f"{r.job} v{r.version}'s run #{r.id} was "
        + ("suspended by `down`" if r.state == "SUSPENDED" else f"{r.state} when the stack stopped")
        for r in runs
    )
    raise StackNotRunningError(
        f"diff needs the running stack here: {which}, and only Flink knows how far it got "
        "(its watermark says which keys are final). `up` resumes it; then diff again. "
        "Versions whose runs ended compare without the stack"
    )


def check_diff(
    registry: Registry, job: str, old: int, new: int, key: Sequence[str] | None
) -> tuple[list[JobVersion], list[str]]:
    """The two versions and the key columns to compare them by, or why not (no stack)."""
    job_versions = [definitions.find_version(registry, job, version) for version in (old, new)]
    if old == new:
        raise CompareError(
            f"compare two different versions of {job}, not v{old} with itself "
            f"(e.g. `diff {job} v{old} v{old + 1}`)"
        )
    return job_versions, list(key) if key else _default_key(job_versions)


def _default_key(job_versions: list[JobVersion]) -> list[str]:
    keys = [v.key for v in job_versions if v.key]
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


def _output_run(
    registry: Registry, catalog: Catalog, flink: RunLauncher | None,
    job_version: JobVersion,
) -> RunRecord:  # fmt: skip
    job, label = job_version.job, job_version.label
    mine = (
        flink.reconciled(job, job_version.version)
        if flink is not None
        else registry.runs(job, job_version.version)
    )
    if not mine:
        raise CompareError(
            f"{job} {label} has never run, so it has no output: `replay {job} {label}` first"
        )
    run = mine[-1]
    if not table_exists(catalog, run.table):
        raise CompareError(
            f"{job} {label}'s table {run.table} was dropped (retire --drop), "
            "so it has no output to compare: replay it again to rebuild it"
        )
    return run


def _read(catalog: Catalog, run: RunRecord, where: str | None) -> pl.DataFrame:
    frame = scan_table(catalog, run.table)
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


def _watermark(flink: RunLauncher | None, run: RunRecord) -> int | None:
    """The running version's watermark now; None when it ended (all it wrote is final),
    -1 when it has none (restored from a checkpoint, no record read since)."""
    if not run.active:
        return None
    if flink is None:  # `in_flight_runs` found it: the caller had to pass Flink
        raise ValueError(f"run #{run.id} is {run.state}: its watermark needs Flink")
    figures = flink_figures(flink.rest, run.flink_job_id)
    watermark = figures["watermark"]
    return int(watermark) if watermark is not None else -1
