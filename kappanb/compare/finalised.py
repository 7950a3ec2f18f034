"""What a version has finalised: rows its watermark has passed, and a diff of those only.

A version still catching up has not finalised the days or windows beyond its watermark;
`diff_outputs` sets those keys apart (in both versions) instead of calling them changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import polars as pl

from kappanb.compare.diff import Diff
from kappanb.compare.matching import (
    _check_key,
    _check_unique,
    _harmonise,
    _is_time,
    _sort,
    diff_frames,
)
from kappanb.exceptions import CompareError

_DAY_MS = 86_400_000
_MAX_MS = 2**63 - 1


def diff_outputs(
    old: pl.DataFrame,
    new: pl.DataFrame,
    key: Sequence[str],
    *,
    old_watermark_ms: int | None = None,
    new_watermark_ms: int | None = None,
    tolerance: float = 0.0,
    old_label: str = "old",
    new_label: str = "new",
    job: str = "",
) -> Diff:
    """`diff_frames`, leaving out the keys either version has not finalised yet.

    When the key has a DATE or TIMESTAMP column (`time_key`) and a version's watermark is
    given, that version's rows that are not final at its watermark (`split_finalised`)
    are set aside as pending, and their keys are not compared in either version: a
    window still open in the replay is not a difference. The pending rows are kept on
    the Diff (``pending_old``, ``pending_new``) and counted in its summary.
    """
    keys = _check_key(old, new, key, old_label, new_label)
    old, new = _harmonise(old, new, keys, old_label, new_label)
    _check_unique(old, keys, old_label)
    _check_unique(new, keys, new_label)
    column = time_key(old, keys)
    old_pending, new_pending = old.clear(), new.clear()
    if column is not None:
        old, old_pending = split_finalised(old, column, old_watermark_ms)
        new, new_pending = split_finalised(new, column, new_watermark_ms)
        pending = pl.concat([old_pending.select(keys), new_pending.select(keys)]).unique()
        old = old.join(pending, on=keys, how="anti", nulls_equal=True)
        new = new.join(pending, on=keys, how="anti", nulls_equal=True)
    diff = diff_frames(
        old, new, keys, tolerance=tolerance, old_label=old_label, new_label=new_label, job=job
    )
    return replace(diff, pending_old=_sort(old_pending, keys), pending_new=_sort(new_pending, keys))


def time_key(frame: pl.DataFrame, key: Sequence[str]) -> str | None:
    """The first key column of ``frame`` that is a DATE or a TIMESTAMP, else None."""
    for k in key:
        if k in frame.columns and _is_time(frame.schema[k]):
            return k
    return None


def split_finalised(
    frame: pl.DataFrame, time_column: str, watermark_ms: int | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split ``frame`` into the rows final at ``watermark_ms`` and the rest (pending).

    A row is final when no event the version may still read can change it, given its
    watermark (epoch milliseconds; naive timestamps are read as UTC):

    - a DATE ``d`` is final when the watermark has reached the end of that day,
      ``d + 1`` at 00:00 UTC;
    - a TIMESTAMP in a column whose name has an ``end`` part (``window_end``,
      ``end_time``) is the end of a window, final when it is at most the watermark;
    - any other TIMESTAMP (``window_start``, a bucket) is taken as the start of a period
      as long as the largest gap between consecutive distinct values in the column (0
      when there is only one value): final when the watermark has reached start + gap.
      A missing period makes the gap longer, so the rule errs on the side of pending.

    Rows whose time is null are final (a watermark says nothing about them). An unknown
    watermark (None) finalises everything: ``(frame, empty)``.
    """
    if time_column not in frame.columns:
        raise CompareError(
            f"no column {time_column!r} to tell final rows by (columns: "
            f"{', '.join(frame.columns)}): give a DATE or TIMESTAMP column of the key"
        )
    dtype = frame.schema[time_column]
    if not _is_time(dtype):
        raise CompareError(
            f"column {time_column!r} is {dtype}, not a DATE or TIMESTAMP: give a key "
            "column with the event time (a day or a window's start or end)"
        )
    if watermark_ms is None:
        return frame, frame.clear()
    watermark = min(int(watermark_ms), _MAX_MS)
    column = pl.col(time_column)
    if dtype == pl.Date:
        final_from = column.cast(pl.Int64) * _DAY_MS + _DAY_MS
    elif "end" in time_column.lower().split("_"):
        final_from = column.dt.epoch("ms")
    else:
        epochs = frame.get_column(time_column).dt.epoch("ms").drop_nulls().unique().sort()
        gap = epochs.diff().max() if epochs.len() > 1 else 0
        final_from = column.dt.epoch("ms") + pl.lit(gap, pl.Int64)
    final = final_from.is_null() | (final_from <= watermark)
    return frame.filter(final), frame.filter(~final)
