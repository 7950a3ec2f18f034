"""Match two versions' rows by a key: only in one, changed (old, new, delta), identical.

Pure functions over polars frames, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kappanb.compare.diff import _CHANGED, Diff
from kappanb.display.diff_view import plural, value_text
from kappanb.exceptions import CompareError

# Float rounding allowed on top of a tolerance, relative to the values compared: enough
# for 100.01 against 100.0 to be within 0.01, far below any tolerance one would give.
_ROUNDING = 4 * 2.220446049250313e-16
_STRING_LIKE = (pl.String, pl.Categorical, pl.Enum)


def diff_frames(
    old: pl.DataFrame,
    new: pl.DataFrame,
    key: Sequence[str],
    *,
    tolerance: float = 0.0,
    old_label: str = "old",
    new_label: str = "new",
    job: str = "",
) -> Diff:
    """Compare ``old`` and ``new`` row by row, matching rows on the ``key`` columns.

    The value columns are the columns both frames have, minus the key; a column only one
    frame has is listed on the Diff and not compared. Values of different types are cast
    to a common type when both are numeric, both temporal or both strings.

    A value is the same when both are null, both NaN, or equal; numbers are also the same
    when ``|new - old| <= tolerance`` (allowing for float rounding, so 100.01 is within
    0.01 of 100.0). Null against a value is a change.
    """
    keys = _check_key(old, new, key, old_label, new_label)
    if not tolerance >= 0:
        raise CompareError(
            f"tolerance must be 0 or more, not {tolerance}: give --tolerance 0 (exact) "
            "or the largest difference between numbers to accept, e.g. 0.01"
        )
    shared = [c for c in old.columns if c in new.columns and c not in keys]
    old, new = _harmonise(old, new, [*keys, *shared], old_label, new_label)
    _check_unique(old, keys, old_label)
    _check_unique(new, keys, new_label)
    numeric = [c for c in shared if old.schema[c].is_numeric()]
    _check_names(keys, shared, numeric)

    only_old = _sort(old.join(new.select(keys), on=keys, how="anti", nulls_equal=True), keys)
    only_new = _sort(new.join(old.select(keys), on=keys, how="anti", nulls_equal=True), keys)

    # Join on internal names: a value column may be called like a generated one.
    old_names = {c: f"__kappanb_old_{i}" for i, c in enumerate(shared)}
    new_names = {c: f"__kappanb_new_{i}" for i, c in enumerate(shared)}
    matched = old.select(*keys, *[pl.col(c).alias(old_names[c]) for c in shared]).join(
        new.select(*keys, *[pl.col(c).alias(new_names[c]) for c in shared]),
        on=keys,
        how="inner",
        nulls_equal=True,
    )
    differs = [
        ~_same(pl.col(old_names[c]), pl.col(new_names[c]), old.schema[c], tolerance) for c in shared
    ]
    columns: list[pl.Expr] = [pl.col(k) for k in keys]
    for c in shared:
        o, n = pl.col(old_names[c]), pl.col(new_names[c])
        columns += [o.alias(f"{c}_old"), n.alias(f"{c}_new")]
        if c in numeric:
            columns.append(_delta(o, n, old.schema[c]).alias(f"{c}_delta"))
    laid_out = [e.meta.output_name() for e in columns]
    if differs:
        flagged = matched.with_columns(
            pl.any_horizontal(differs).alias("__kappanb_any"),
            pl.concat_list(
                [
                    pl.when(d).then(pl.lit(c)).otherwise(pl.lit(None, pl.String))
                    for d, c in zip(differs, shared, strict=True)
                ]
            )
            .list.drop_nulls()
            .alias(_CHANGED),
        )
    else:
        flagged = matched.with_columns(
            pl.lit(False).alias("__kappanb_any"),
            pl.lit([], pl.List(pl.String)).alias(_CHANGED),
        )
    flagged = flagged.with_columns(columns)
    changed = _sort(flagged.filter(pl.col("__kappanb_any")).select(*laid_out, _CHANGED), keys)
    same = _sort(flagged.filter(~pl.col("__kappanb_any")).select(laid_out), keys)
    return Diff(
        key=tuple(keys),
        value_columns=tuple(shared),
        numeric_columns=tuple(numeric),
        only_old=only_old,
        only_new=only_new,
        changed=changed,
        same_count=same.height,
        same=same,
        columns_only_old=tuple(c for c in old.columns if c not in new.columns),
        columns_only_new=tuple(c for c in new.columns if c not in old.columns),
        tolerance=tolerance,
        old_label=old_label,
        new_label=new_label,
        job=job,
        pending_old=old.clear(),
        pending_new=new.clear(),
    )


def _check_key(
    old: pl.DataFrame, new: pl.DataFrame, key: Sequence[str], old_label: str, new_label: str
) -> list[str]:
    if isinstance(key, str):
        key = [key]
    keys = list(key)
    if not keys:
        raise CompareError(
            "no key to match rows by: give --key COLS, the columns that pick out one row "
            "(usually the GROUP BY columns)"
        )
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise CompareError(f"the key names {', '.join(twice)} twice: give each column once")
    for frame, label in ((old, old_label), (new, new_label)):
        missing = [k for k in keys if k not in frame.columns]
        if missing:
            raise CompareError(
                f"key column{'s' if len(missing) > 1 else ''} {', '.join(missing)} not in "
                f"{label} (its columns: {', '.join(frame.columns)}): give --key COLS with "
                "columns both versions have"
            )
    return keys


def _check_unique(frame: pl.DataFrame, keys: list[str], label: str) -> None:
    counts = frame.group_by(keys).len(name="__kappanb_n").filter(pl.col("__kappanb_n") > 1)
    if counts.is_empty():
        return
    example = _sort(counts, keys).row(0)
    shown = ", ".join(f"{k}={value_text(v, 'null')}" for k, v in zip(keys, example, strict=False))
    n = counts.height
    raise CompareError(
        f"{label} has {n:,} duplicate {plural(n, 'key')} on {', '.join(keys)} (e.g. "
        f"{shown} is in {example[-1]:,} rows): the key must pick out one row; give --key "
        "COLS with the columns that make a row unique"
    )


def _check_names(keys: list[str], shared: list[str], numeric: list[str]) -> None:
    names = [*keys, _CHANGED]
    for c in shared:
        names += [f"{c}_old", f"{c}_new"] + ([f"{c}_delta"] if c in numeric else [])
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise CompareError(
            f"the comparison's columns would clash ({', '.join(clashes)}): rename the "
            "columns that end in _old, _new or _delta in the job's SELECT"
        )


def _harmonise(
    old: pl.DataFrame, new: pl.DataFrame, columns: list[str], old_label: str, new_label: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast columns whose types differ to a common type, or refuse."""
    casts: dict[str, pl.DataType] = {}
    for c in columns:
        a, b = old.schema[c], new.schema[c]
        if a == b:
            continue
        refusal = CompareError(
            f"column {c!r} is {a} in {old_label} but {b} in {new_label}, which cannot be "
            "compared: make it one type in both versions' SELECT (CAST it)"
        )
        if not _castable(a, b):
            raise refusal
        try:
            casts[c] = pl.concat(
                [old.select(c).clear(), new.select(c).clear()], how="vertical_relaxed"
            ).schema[c]
        except pl.exceptions.PolarsError:
            raise refusal from None
    if not casts:
        return old, new
    exprs = [pl.col(c).cast(t) for c, t in casts.items()]
    try:
        return old.with_columns(exprs), new.with_columns(exprs)
    except pl.exceptions.PolarsError as e:
        raise CompareError(
            f"the outputs' types differ and cannot be cast to one ({e}): make them one type "
            "in both versions' SELECT (CAST it)"
        ) from None


def _castable(a: pl.DataType, b: pl.DataType) -> bool:
    if a == pl.Null or b == pl.Null:
        return True
    if a.is_numeric() and b.is_numeric():
        return True
    if a.is_temporal() and b.is_temporal():  # Date and Datetime, or two of one kind
        return (_is_time(a) and _is_time(b)) or type(a) is type(b)
    return isinstance(a, _STRING_LIKE) and isinstance(b, _STRING_LIKE)


def _same(old: pl.Expr, new: pl.Expr, dtype: pl.DataType, tolerance: float) -> pl.Expr:
    """True where the values are the same (null and null, NaN and NaN, within tolerance)."""
    exact = old.eq_missing(new)
    if tolerance == 0 or not dtype.is_numeric():
        return exact
    o, n = old.cast(pl.Float64), new.cast(pl.Float64)
    slack = pl.max_horizontal(o.abs(), n.abs(), pl.lit(tolerance)) * _ROUNDING
    close = (n - o).abs() <= slack + tolerance
    return exact | close.fill_null(False)


def _delta(old: pl.Expr, new: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.UInt64:
        return new.cast(pl.Float64) - old.cast(pl.Float64)
    if dtype.is_unsigned_integer():
        return new.cast(pl.Int64) - old.cast(pl.Int64)
    return new - old


def _sort(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return frame.sort(keys, nulls_last=True, maintain_order=True)


def _is_time(dtype: pl.DataType) -> bool:
    return dtype == pl.Date or isinstance(dtype, pl.Datetime)
