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
    window still open in the replay is not a difference. Nor is a row only one version
    has while the other may still write it (its watermark has not passed the row's
    time). The pending rows are kept on the Diff (``pending_old``, ``pending_new``) and
    the keys each version has not finalised are counted in its summary.
    """
    keys = _check_key(old, new, key, old_label, new_label)
    old, new = _harmonise(old, new, keys, old_label, new_label)
    _check_unique(old, keys, old_label)
    _check_unique(new, keys, new_label)
    column = time_key(old, keys)
    old_pending, new_pending, unfinalised = old.clear(), new.clear(), (0, 0)
    if column is not None:
        # Keys each version has not finalised: its own rows beyond its watermark, and
        # rows only the other version has that it may still write (an append-only window
        # the live version has not closed yet is not missing from it).
        old_open = ~final_mask(old, column, old_watermark_ms)
        new_open = ~final_mask(new, column, new_watermark_ms)
        old_lacks = ~_in(new, old, keys) & ~final_mask(new, column, old_watermark_ms)
        new_lacks = ~_in(old, new, keys) & ~final_mask(old, column, new_watermark_ms)
        waiting_old = pl.concat(
            [old.filter(old_open).select(keys), new.filter(old_lacks).select(keys)]
        )
        waiting_new = pl.concat(
            [new.filter(new_open).select(keys), old.filter(new_lacks).select(keys)]
        )
        unfinalised = (waiting_old.unique().height, waiting_new.unique().height)
        pending = pl.concat([waiting_old, waiting_new]).unique()
        # Shown as pending: each version's own open rows, and a row only one version has.
        old_pending = old.filter(old_open | new_lacks)
        new_pending = new.filter(new_open | old_lacks)
        old = old.join(pending, on=keys, how="anti", nulls_equal=True)
        new = new.join(pending, on=keys, how="anti", nulls_equal=True)
    diff = diff_frames(
        old, new, keys, tolerance=tolerance, old_label=old_label, new_label=new_label, job=job
    )
    return replace(
        diff, pending_old=_sort(old_pending, keys), pending_new=_sort(new_pending, keys),
        unfinalised=unfinalised,
    )  # fmt: skip


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
    final = final_mask(frame, time_column, watermark_ms)
    return frame.filter(final), frame.filter(~final)


def final_mask(frame: pl.DataFrame, time_column: str, watermark_ms: int | None) -> pl.Series:
    """Which rows of ``frame`` are final at ``watermark_ms`` (see `split_finalised`)."""
    if watermark_ms is None:
        return pl.Series([True] * frame.height, dtype=pl.Boolean)
    watermark = min(int(watermark_ms), _MAX_MS)
    column = pl.col(time_column)
    if frame.schema[time_column] == pl.Date:
        final_from = column.cast(pl.Int64) * _DAY_MS + _DAY_MS
    elif "end" in time_column.lower().split("_"):
        final_from = column.dt.epoch("ms")
    else:
        epochs = frame.get_column(time_column).dt.epoch("ms").drop_nulls().unique().sort()
        gap = epochs.diff().max() if epochs.len() > 1 else 0
        final_from = column.dt.epoch("ms") + pl.lit(gap, pl.Int64)
    return frame.select(final_from.is_null() | (final_from <= watermark)).to_series()


def _in(frame: pl.DataFrame, other: pl.DataFrame, keys: Sequence[str]) -> pl.Series:
    """Whether each row's key of ``frame`` is also in ``other``."""
    theirs = other.select(pl.struct(keys).alias("k")).get_column("k").implode()
    return frame.select(pl.struct(keys).is_in(theirs)).to_series()
