"""How a comparison reads: its one-line summary, the text tables and the HTML view.

Pure functions from a `kappanb.compare.Diff` (which computes) to text (which is drawn
here); `Diff.summary`, ``str(diff)`` and the notebook's HTML call them. The chart is
`kappanb.display.diff_chart`; the HTML view embeds it as a PNG rendered in the kernel.
This module needs `Diff` only for annotations, so display never imports compare when
it loads (compare imports display).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import polars as pl

from kappanb.display.html import Raw, html_table, text_table

if TYPE_CHECKING:
    from kappanb.compare.diff import Diff

_TEXT_ROWS = 20
_HTML_ROWS = 50
_TIME_KEYS_DRAWN = 5_000
_LABELS_DRAWN = 60


def diff_summary(diff: Diff) -> str:
    """One line, e.g. ``312 keys differ, max |Δ| 41 on 2026-03-04; 3 only in v1, ...``."""
    if diff.identical:
        text = f"identical: {diff.same_count:,} {plural(diff.same_count, 'row')}"
    else:
        n = diff.changed.height
        text = f"{n:,} {'key differs' if n == 1 else 'keys differ'}"
        top = diff.max_delta()
        if top is not None:
            column, value, key = top
            name = f" {column}" if len(diff.numeric_columns) > 1 else ""
            text += f", max |Δ{name}| {number_text(value)} on {_key_text(key)}"
        text += (
            f"; {diff.only_old.height:,} only in {diff.old_label}, "
            f"{diff.only_new.height:,} only in {diff.new_label}; "
            f"{diff.same_count:,} identical"
        )
    return text + _pending_note(diff)


def diff_text(diff: Diff) -> str:
    """The title, notes and the first rows of each section as text tables (``str(diff)``)."""
    parts = [_title(diff), *_column_notes(diff)]
    for title, frame, unit in _sections(diff):
        parts.append(f"\n{title} ({frame.height:,} {plural(frame.height, unit)}):")
        parts.append(_table(diff, frame, _TEXT_ROWS, html=False))
        if frame.height > _TEXT_ROWS:
            parts.append(f"… and {frame.height - _TEXT_ROWS:,} more")
    return "\n".join(parts)


def diff_html(diff: Diff) -> str:
    """The counts, the sections side by side and the chart, for a notebook."""
    counts = html_table(
        ["changed", f"only in {diff.old_label}", f"only in {diff.new_label}", "identical",
         "not compared"],
        [[f"{diff.changed.height:,}", f"{diff.only_old.height:,}",
          f"{diff.only_new.height:,}", f"{diff.same_count:,}", f"{diff.pending_keys:,}"]],
    )  # fmt: skip
    parts = [f"<b>{escape(_title(diff))}</b>", counts]
    parts += [f"<div><i>{escape(note)}</i></div>" for note in _column_notes(diff)]
    sections = []
    for title, frame, unit in _sections(diff):  # side by side, wrapping when narrow
        more = (
            f"<div><i>… and {frame.height - _HTML_ROWS:,} more</i></div>"
            if frame.height > _HTML_ROWS
            else ""
        )
        sections.append(
            f'<div style="margin-top:8px"><b>{escape(title)}</b> '
            f"({frame.height:,} {plural(frame.height, unit)})"
            + _table(diff, frame, _HTML_ROWS, html=True)
            + more
            + "</div>"
        )
    if sections:
        parts.append(
            '<div style="display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start">'
            + "".join(sections)
            + "</div>"
        )
    parts.append(_chart_image(diff))
    note = _pending_note(diff)
    if note:
        parts.append(
            f"<div><i>{escape(note[2:])}: {escape(_pending_reason(diff), quote=False)}</i></div>"
        )
    return "<div>" + "".join(parts) + "</div>"


def _pending_note(diff: Diff) -> str:
    n = diff.pending_keys
    if not n:
        return ""
    old, new = diff.unfinalised
    if old and new:
        why = f"not finalised yet: {old:,} in {diff.old_label}, {new:,} in {diff.new_label}"
    else:
        label = diff.old_label if old else diff.new_label
        why = f"{label} has not finalised {'it' if n == 1 else 'them'} yet"
    return f"; {n:,} {plural(n, 'key')} not compared ({why})"


def _pending_reason(diff: Diff) -> str:
    """Why keys were not compared: a watermark behind them, or none at all."""
    missing = diff.without_watermark
    if not missing:
        return "a version's watermark is behind their event time, so its rows may still change"
    who = " and ".join(missing)
    has = "has" if len(missing) == 1 else "have"
    return (
        f"{who} {has} no watermark yet (restarted from a checkpoint and read no record "
        "since), so no row of theirs counts as final; diff again once new records are read"
    )


def _title(diff: Diff) -> str:
    if diff.job:
        return f"{diff.job} {diff.old_label} → {diff.new_label}: {diff_summary(diff)}"
    return diff_summary(diff)


def _column_notes(diff: Diff) -> list[str]:
    notes = []
    for label, columns in (
        (diff.old_label, diff.columns_only_old),
        (diff.new_label, diff.columns_only_new),
    ):
        if columns:
            notes.append(f"columns only in {label}: {', '.join(columns)} (not compared)")
    return notes


def _sections(diff: Diff) -> list[tuple[str, pl.DataFrame, str]]:
    """(title, frame, what a row is) for each non-empty section."""
    sections = [
        (f"only in {diff.old_label}", diff.only_old, "row"),
        (f"only in {diff.new_label}", diff.only_new, "row"),
        ("changed", diff.changed, "key"),
    ]
    return [s for s in sections if s[1].height]


def _changed_table(diff: Diff, limit: int, html: bool) -> tuple[list[str], list[list[object]]]:
    """Per value column "old → new" where it differs (the value where not), and Δ."""
    headers = list(diff.key)
    for c in diff.value_columns:
        headers.append(c)
        if c in diff.numeric_columns:
            headers.append(f"Δ {c}")
    rows: list[list[object]] = []
    for record, differ in diff.changed_rows(limit):
        row: list[object] = [value_text(record[k]) for k in diff.key]
        for c in diff.value_columns:
            old, new = record[f"{c}_old"], record[f"{c}_new"]
            if c in differ:
                text = f"{value_text(old, 'null')} → {value_text(new, 'null')}"
                row.append(_marked(text) if html else text)
            else:
                row.append(value_text(new))
            if c in diff.numeric_columns:
                delta = record[f"{c}_delta"]
                row.append(_signed(delta) if c in differ and delta is not None else "")
        rows.append(row)
    return headers, rows


def _table(diff: Diff, frame: pl.DataFrame, limit: int, html: bool) -> str:
    if frame is diff.changed:
        headers, rows = _changed_table(diff, limit, html)
    else:
        headers = frame.columns
        rows = [[value_text(v) for v in r] for r in frame.head(limit).iter_rows()]
    return html_table(headers, rows) if html else text_table(headers, rows)


def _chart_image(diff: Diff) -> str:
    """The chart as an inline PNG (rendered in the kernel; any frontend shows it)."""
    from kappanb.display.diff_chart import single_time_key

    keys = diff.same_count + diff.changed.height + diff.only_old.height + diff.only_new.height
    # Keys on a time axis stay legible in large numbers; one label per key does not
    # (and makes a picture of hundreds of KB in a saved notebook). `chart()` draws any.
    most = _TIME_KEYS_DRAWN if single_time_key(diff) is not None else _LABELS_DRAWN
    if not diff.numeric_columns or not 0 < keys <= most:
        return ""
    import base64

    from kappanb.display.snapshot import chart_png

    try:
        png = base64.b64encode(chart_png(diff.chart())).decode("ascii")
    except Exception:  # a picture is a bonus: the tables above say it all
        return ""
    return f'<div><img alt="the metric over the key" src="data:image/png;base64,{png}"></div>'


def _marked(text: str) -> Raw:
    """A changed cell, shaded."""
    return Raw(f'<span style="background:#fde2e1">{escape(text)}</span>')


def plural(n: int, word: str) -> str:
    """``word`` as it reads after the count ``n``: row, rows."""
    return word if n == 1 else f"{word}s"


def _key_text(values: tuple[Any, ...]) -> str:
    if len(values) == 1:
        return value_text(values[0], "null")
    return "(" + ", ".join(value_text(v, "null") for v in values) + ")"


def value_text(value: Any, null: str = "") -> str:
    """A cell's value as shown: numbers by `number_text`, lists bracketed, None as ``null``."""
    if value is None:
        return null
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v, "null") for v in value) + "]"
    return str(value)


def number_text(value: Any) -> str:
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
    text = number_text(value)
    if isinstance(value, int | float) and not text.startswith("-") and text != "NaN":
        return f"+{text}"
    return text
