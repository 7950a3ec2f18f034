"""The result of comparing two versions' outputs: the rows each side has, and what differs.

`kappanb.compare.matching.diff_frames` builds it; `kappanb.compare.finalised.diff_outputs`
first sets aside what a version has not finalised yet. How it reads (the summary line,
text tables, the notebook's HTML, the chart) is drawn in `kappanb.display.diff_view` and
`kappanb.display.diff_chart`; the methods here hand over to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from kappanb.display.diff_view import diff_html, diff_summary, diff_text
from kappanb.display.plain import plain_text

if TYPE_CHECKING:
    import altair as alt

_CHANGED = "changed_columns"


@plain_text
@dataclass(frozen=True, eq=False)
class Diff:
    """Two versions' outputs compared row by row on ``key``.

    ``only_old`` / ``only_new`` hold the rows (all of that version's columns) whose key
    the other version lacks. ``changed`` has one row per key where a value column differs:
    the key columns, then for each value column ``c`` the columns ``c_old``, ``c_new`` and,
    for a numeric column, ``c_delta`` (new - old), then ``changed_columns`` (a list of the
    columns that differ in that row). ``same`` has the identical rows in the same layout
    (without ``changed_columns``). ``pending_old`` / ``pending_new`` hold the rows a
    version had not finalised yet, which were left out of the comparison (see
    `diff_outputs`); they are empty after `diff_frames`.
    """

    key: tuple[str, ...]
    value_columns: tuple[str, ...]
    numeric_columns: tuple[str, ...]
    only_old: pl.DataFrame
    only_new: pl.DataFrame
    changed: pl.DataFrame
    same_count: int
    same: pl.DataFrame = field(default_factory=pl.DataFrame)
    columns_only_old: tuple[str, ...] = ()
    columns_only_new: tuple[str, ...] = ()
    tolerance: float = 0.0
    old_label: str = "old"
    new_label: str = "new"
    job: str = ""
    pending_old: pl.DataFrame = field(default_factory=pl.DataFrame)
    pending_new: pl.DataFrame = field(default_factory=pl.DataFrame)
    unfinalised: tuple[int, int] = (0, 0)
    """Keys the old and the new version had not finalised (a key only one version has
    counts against the other, which may still write it)."""
    without_watermark: tuple[str, ...] = ()
    """Labels of running versions that had no watermark when compared (restored from a
    checkpoint and not read a record since): none of their rows counted as final."""

    @property
    def identical(self) -> bool:
        """No compared key differs and every key is in both versions (pending rows aside)."""
        return self.changed.is_empty() and self.only_old.is_empty() and self.only_new.is_empty()

    @property
    def pending_keys(self) -> int:
        """How many distinct keys were not compared because a version had not finalised them."""
        frames = [f.select(self.key) for f in (self.pending_old, self.pending_new) if f.height]
        if not frames:
            return 0
        return pl.concat(frames, how="vertical_relaxed").unique().height

    def max_delta(self) -> tuple[str, Any, tuple[Any, ...]] | None:
        """The largest |new - old| among changed rows: (column, |delta|, key), or None."""
        best: tuple[str, Any, tuple[Any, ...]] | None = None
        for c in self.numeric_columns:
            if f"{c}_delta" not in self.changed.columns:
                continue
            delta = pl.col(f"{c}_delta")
            if self.changed.schema[f"{c}_delta"].is_float():
                delta = delta.fill_nan(None)
            top = (
                self.changed.select([*self.key, delta.abs().alias("__kappanb_abs")])
                .drop_nulls("__kappanb_abs")
                .sort("__kappanb_abs", descending=True, maintain_order=True)
                .head(1)
            )
            if top.is_empty():
                continue
            row = top.row(0)
            if best is None or row[-1] > best[1]:
                best = (c, row[-1], tuple(row[:-1]))
        return best

    def changed_rows(self, limit: int) -> Iterator[tuple[dict[str, Any], set[str]]]:
        """The first ``limit`` rows of ``changed``, each with the value columns that differ."""
        for record in self.changed.head(limit).iter_rows(named=True):
            yield record, set(record[_CHANGED] or ())

    def summary(self) -> str:
        """One line, e.g. ``312 keys differ, max |Δ| 41 on 2026-03-04; 3 only in v1, ...``."""
        return diff_summary(self)

    def __str__(self) -> str:
        return diff_text(self)

    def _repr_html_(self) -> str:
        return diff_html(self)

    def chart(self, column: str | None = None) -> alt.Chart | alt.LayerChart:
        """Both versions' ``column`` (default: the first numeric one) over the key."""
        from kappanb.display.diff_chart import diff_chart  # altair loads on first use

        return diff_chart(self, column)
