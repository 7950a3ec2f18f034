"""The result of comparing two versions' outputs, and how it reads: summary, text, HTML.

`kappanb.compare.matching.diff_frames` builds it; `kappanb.compare.finalised.diff_outputs`
first sets aside what a version has not finalised yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

import polars as pl

from kappanb.display.html import Raw, html_table, text_table
from kappanb.display.plain import plain_text

if TYPE_CHECKING:
    import altair as alt

_TEXT_ROWS = 20
_HTML_ROWS = 50
_TIME_KEYS_DRAWN = 5_000
_LABELS_DRAWN = 60
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

    def summary(self) -> str:
        """One line, e.g. ``312 keys differ, max |Δ| 41 on 2026-03-04; 3 only in v1, ...``."""
        if self.identical:
            text = f"identical: {self.same_count:,} {_plural(self.same_count, 'row')}"
        else:
            n = self.changed.height
            text = f"{n:,} {'key differs' if n == 1 else 'keys differ'}"
            top = self.max_delta()
            if top is not None:
                column, value, key = top
                name = f" {column}" if len(self.numeric_columns) > 1 else ""
                text += f", max |Δ{name}| {_number(value)} on {_key_text(key)}"
            text += (
                f"; {self.only_old.height:,} only in {self.old_label}, "
                f"{self.only_new.height:,} only in {self.new_label}; "
                f"{self.same_count:,} identical"
            )
        return text + self._pending_note()

    def _pending_note(self) -> str:
        n = self.pending_keys
        if not n:
            return ""
        old, new = self.unfinalised
        if old and new:
            why = f"not finalised yet: {old:,} in {self.old_label}, {new:,} in {self.new_label}"
        else:
            label = self.old_label if old else self.new_label
            why = f"{label} has not finalised {'it' if n == 1 else 'them'} yet"
        return f"; {n:,} {_plural(n, 'key')} not compared ({why})"

    def _title(self) -> str:
        if self.job:
            return f"{self.job} {self.old_label} → {self.new_label}: {self.summary()}"
        return self.summary()

    def _column_notes(self) -> list[str]:
        notes = []
        for label, columns in (
            (self.old_label, self.columns_only_old),
            (self.new_label, self.columns_only_new),
        ):
            if columns:
                notes.append(f"columns only in {label}: {', '.join(columns)} (not compared)")
        return notes

    def _sections(self) -> list[tuple[str, pl.DataFrame, str]]:
        """(title, frame, what a row is) for each non-empty section."""
        sections = [
            (f"only in {self.old_label}", self.only_old, "row"),
            (f"only in {self.new_label}", self.only_new, "row"),
            ("changed", self.changed, "key"),
        ]
        return [s for s in sections if s[1].height]

    def _changed_table(self, limit: int, html: bool) -> tuple[list[str], list[list[object]]]:
        """Per value column "old → new" where it differs (the value where not), and Δ."""
        headers = list(self.key)
        for c in self.value_columns:
            headers.append(c)
            if c in self.numeric_columns:
                headers.append(f"Δ {c}")
        rows: list[list[object]] = []
        for record in self.changed.head(limit).iter_rows(named=True):
            row: list[object] = [_cell(record[k]) for k in self.key]
            differ = set(record[_CHANGED] or ())
            for c in self.value_columns:
                old, new = record[f"{c}_old"], record[f"{c}_new"]
                if c in differ:
                    text = f"{_cell(old, 'null')} → {_cell(new, 'null')}"
                    row.append(_marked(text) if html else text)
                else:
                    row.append(_cell(new))
                if c in self.numeric_columns:
                    delta = record[f"{c}_delta"]
                    row.append(_signed(delta) if c in differ and delta is not None else "")
            rows.append(row)
        return headers, rows

    def _table(self, frame: pl.DataFrame, limit: int, html: bool) -> str:
        if frame is self.changed:
            headers, rows = self._changed_table(limit, html)
        else:
            headers = frame.columns
            rows = [[_cell(v) for v in r] for r in frame.head(limit).iter_rows()]
        return html_table(headers, rows) if html else text_table(headers, rows)

    def __str__(self) -> str:
        parts = [self._title(), *self._column_notes()]
        for title, frame, unit in self._sections():
            parts.append(f"\n{title} ({frame.height:,} {_plural(frame.height, unit)}):")
            parts.append(self._table(frame, _TEXT_ROWS, html=False))
            if frame.height > _TEXT_ROWS:
                parts.append(f"… and {frame.height - _TEXT_ROWS:,} more")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        counts = html_table(
            ["changed", f"only in {self.old_label}", f"only in {self.new_label}", "identical",
             "not compared"],
            [[f"{self.changed.height:,}", f"{self.only_old.height:,}",
              f"{self.only_new.height:,}", f"{self.same_count:,}", f"{self.pending_keys:,}"]],
        )  # fmt: skip
        parts = [f"<b>{escape(self._title())}</b>", counts]
        parts += [f"<div><i>{escape(note)}</i></div>" for note in self._column_notes()]
        sections = []
        for title, frame, unit in self._sections():  # side by side, wrapping when narrow
            more = (
                f"<div><i>… and {frame.height - _HTML_ROWS:,} more</i></div>"
                if frame.height > _HTML_ROWS
                else ""
            )
            sections.append(
                f'<div style="margin-top:8px"><b>{escape(title)}</b> '
                f"({frame.height:,} {_plural(frame.height, unit)})"
                + self._table(frame, _HTML_ROWS, html=True)
                + more
                + "</div>"
            )
        if sections:
            parts.append(
                '<div style="display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start">'
                + "".join(sections)
                + "</div>"
            )
        parts.append(self._chart_image())
        note = self._pending_note()
        if note:
            parts.append(
                f"<div><i>{escape(note[2:])}: a version's watermark is behind their event "
                "time, so its rows may still change</i></div>"
            )
        return "<div>" + "".join(parts) + "</div>"

    def _chart_image(self) -> str:
        """The chart as an inline PNG (rendered in the kernel; any frontend shows it)."""
        from kappanb.display.diff_chart import single_time_key

        keys = self.same_count + self.changed.height + self.only_old.height + self.only_new.height
        # Keys on a time axis stay legible in large numbers; one label per key does not
        # (and makes a picture of hundreds of KB in a saved notebook). `chart()` draws any.
        most = _TIME_KEYS_DRAWN if single_time_key(self) is not None else _LABELS_DRAWN
        if not self.numeric_columns or not 0 < keys <= most:
            return ""
        import base64

        from kappanb.display.snapshot import chart_png

        try:
            png = base64.b64encode(chart_png(self.chart())).decode("ascii")
        except Exception:  # a picture is a bonus: the tables above say it all
            return ""
        return f'<div><img alt="the metric over the key" src="data:image/png;base64,{png}"></div>'

    def chart(self, column: str | None = None) -> alt.Chart | alt.LayerChart:
        """Both versions' ``column`` (default: the first numeric one) over the key."""
        from kappanb.display.diff_chart import diff_chart

        return diff_chart(self, column)


def _marked(text: str) -> Raw:
    """A changed cell, shaded."""
    return Raw(f'<span style="background:#fde2e1">{escape(text)}</span>')


def _plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def _key_text(values: tuple[Any, ...]) -> str:
    if len(values) == 1:
        return _cell(values[0], "null")
    return "(" + ", ".join(_cell(v, "null") for v in values) + ")"


def _cell(value: Any, null: str = "") -> str:
    if value is None:
        return null
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, list):
        return "[" + ", ".join(_cell(v, "null") for v in value) + "]"
    return str(value)


def _number(value: Any) -> str:
    """41, 1,234, 0.5, 1.25e-07: thousands separated, at most 6 significant digits."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value != value:
        return "NaN"
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.6g}"


def _signed(value: Any) -> str:
    text = _number(value)
    if isinstance(value, int | float) and not text.startswith("-") and text != "NaN":
        return f"+{text}"
    return text
