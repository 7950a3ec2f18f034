"""The chart of a comparison: a value over the key for both versions, differences marked.

A pure function from a `Diff` to altair. The data is one row per key and version, with
columns ``key`` (the key, or its columns joined into one label), ``version``, ``value``
and ``status`` ("same", "changed", "only in v1", ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import altair as alt
import polars as pl

from kappanb.exceptions import CompareError

if TYPE_CHECKING:
    from kappanb.compare.diff import Diff

_WIDTH, _HEIGHT = 600, 220
_SEPARATOR = " / "


def diff_chart(diff: Diff, column: str | None = None) -> alt.Chart | alt.LayerChart:
    """``column`` (default: the numeric column that changed most) over the key, per version.

    One line with points per version (coloured by its label); a red rule at each key where
    that column changed (a tooltip gives old, new and Δ); a large hollow diamond at each
    key only one
    version has. The x axis is temporal when the key is one DATE or TIMESTAMP column,
    nominal otherwise (several key columns are joined into one label).
    """
    column = _column(diff, column)
    key = _key_expr(diff)
    old, new = diff.old_label, diff.new_label
    values: list[pl.DataFrame] = []
    for frame, status in ((diff.same, "same"), (diff.changed, "changed")):
        if frame.height:
            for label, side in ((old, "old"), (new, "new")):
                values.append(_rows(frame, key, status, label, f"{column}_{side}"))
    only = [
        _rows(frame, key, f"only in {label}", label, column)
        for frame, label in ((diff.only_old, old), (diff.only_new, new))
        if frame.height
    ]
    data = _concat([*values, *only]).sort("key", nulls_last=True, maintain_order=True)

    x, shorthand = _x(diff)
    color = alt.Color("version:N", title="version", scale=alt.Scale(domain=[old, new]))
    y = alt.Y("value:Q", title=column)
    key_tip = alt.Tooltip(shorthand, title=", ".join(diff.key))
    tooltip: list[Any] = [key_tip, "version:N", alt.Tooltip("value:Q", title=column), "status:N"]
    base = alt.Chart(data)
    layers: list[Any] = [
        base.mark_line().encode(x=x, y=y, color=color),
        base.mark_point(filled=True, size=30).encode(x=x, y=y, color=color, tooltip=tooltip),
    ]
    if _moved(diff, column).height:
        layers.append(_changed_rules(diff, column, key, x, key_tip))
    if only:
        layers.append(
            alt.Chart(_concat(only))
            .mark_point(shape="diamond", size=160, filled=False, strokeWidth=2)
            .encode(x=x, y=y, color=color, tooltip=tooltip)
        )
    job = f"{diff.job}: " if diff.job else ""
    title = f"{job}{column}, {old} vs {new}"
    return alt.LayerChart(layer=layers, title=title, width=_WIDTH, height=_HEIGHT)


def _column(diff: Diff, column: str | None) -> str:
    if column is None:
        if not diff.numeric_columns:
            raise CompareError(
                "no numeric column to chart: both versions share only "
                f"{', '.join(diff.value_columns) or 'the key'}; compare the tables instead"
            )
        return most_changed(diff)
    if column not in diff.numeric_columns:
        raise CompareError(
            f"cannot chart {column!r}: give a numeric column both versions have "
            f"({', '.join(diff.numeric_columns) or 'there is none'})"
        )
    return column


def most_changed(diff: Diff) -> str:
    """The numeric column that differs at the most keys, then by the larger total |Δ|
    relative to its old total; the first numeric column when none changed. (The first
    column, a count, was charted even when the fix changed another one.)"""

    def change(column: str) -> tuple[int, float]:
        moved = _moved(diff, column)
        if not moved.height or f"{column}_delta" not in moved.columns:
            return (moved.height, 0.0)
        size = moved.select(pl.col(f"{column}_delta").cast(pl.Float64).abs().sum()).item() or 0.0
        base = moved.select(pl.col(f"{column}_old").cast(pl.Float64).abs().sum()).item() or 0.0
        return (moved.height, size / base if base else size)

    scores = {c: change(c) for c in diff.numeric_columns}
    return max(diff.numeric_columns, key=lambda c: scores[c])  # first of equals


def single_time_key(diff: Diff) -> pl.DataType | None:
    """The key's type when the key is one DATE or TIMESTAMP column."""
    if len(diff.key) != 1:
        return None
    frames = (diff.same, diff.changed, diff.only_old, diff.only_new)
    for frame in frames:
        if diff.key[0] in frame.columns:
            dtype = frame.schema[diff.key[0]]
            return dtype if dtype == pl.Date or isinstance(dtype, pl.Datetime) else None
    return None


def _key_expr(diff: Diff) -> pl.Expr:
    if len(diff.key) == 1:
        return pl.col(diff.key[0]).alias("key")
    parts = [pl.col(k).cast(pl.String).fill_null("null") for k in diff.key]
    return pl.concat_str(parts, separator=_SEPARATOR).alias("key")


def _x(diff: Diff) -> tuple[alt.X, str]:
    """The x encoding and its shorthand (for tooltips)."""
    title = ", ".join(diff.key)
    dtype = single_time_key(diff)
    if dtype is not None:
        fmt = "%Y-%m-%d" if dtype == pl.Date else "%Y-%m-%d %H:%M"
        return alt.X("key:T", title=title, axis=alt.Axis(format=fmt)), "key:T"
    return alt.X("key:N", title=title), "key:N"


def _rows(frame: pl.DataFrame, key: pl.Expr, status: str, label: str, value: str) -> pl.DataFrame:
    """One row per key of ``frame``: key, version, value, status."""
    return frame.select(
        key,
        pl.lit(label).alias("version"),
        _float(pl.col(value)).alias("value"),
        pl.lit(status).alias("status"),
    )


def _float(value: pl.Expr) -> pl.Expr:
    """As Float64 without NaN (JSON has none): a NaN is drawn as a gap."""
    return value.cast(pl.Float64).fill_nan(None)


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    if not frames:
        return pl.DataFrame(
            schema={"key": pl.String, "version": pl.String, "value": pl.Float64,
                    "status": pl.String}
        )  # fmt: skip
    return pl.concat(frames, how="vertical_relaxed")


def _changed_rules(
    diff: Diff, column: str, key: pl.Expr, x: alt.X, key_tip: alt.Tooltip
) -> alt.Chart:
    """A red rule at each key where ``column`` changed (not at every changed key: the
    chart shows one column), with old, new, Δ and the columns that differ."""
    rules = _moved(diff, column).select(
        key,
        _float(pl.col(f"{column}_old")).alias("old"),
        _float(pl.col(f"{column}_new")).alias("new"),
        _float(pl.col(f"{column}_delta")).alias("delta"),
        pl.col("changed_columns").list.join(", ").alias("columns"),
    )
    chart: alt.Chart = (
        alt.Chart(rules)
        .mark_rule(color="red", opacity=0.6, strokeWidth=2)
        .encode(
            x=x,
            tooltip=[
                key_tip,
                alt.Tooltip("old:Q", title=diff.old_label),
                alt.Tooltip("new:Q", title=diff.new_label),
                alt.Tooltip("delta:Q", title="Δ"),
                alt.Tooltip("columns:N", title="differs in"),
            ],
        )
    )
    return chart


def _moved(diff: Diff, column: str) -> pl.DataFrame:
    """The changed rows where ``column`` itself differs (the diff's own judgement)."""
    if not diff.changed.height:
        return diff.changed
    return diff.changed.filter(pl.col("changed_columns").list.contains(column))
