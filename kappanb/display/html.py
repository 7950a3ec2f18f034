"""Small HTML helpers for the `_repr_html_` of kappanb's results. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_STYLE = "border-collapse:collapse;font-size:90%;margin:4px 0"
_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left"


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain table; cells are escaped unless they are `Raw`."""
    head = "".join(f'<th style="{_CELL}">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{_cell(v)}</td>' for v in row) + "</tr>"
        for row in rows
    )
    return f'<table style="{_STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class Raw(str):
    """HTML that is already safe (a link built by kappanb)."""


def link(url: str, text: str) -> Raw:
    return Raw(f'<a href="{escape(url)}" target="_blank">{escape(text)}</a>')


def path(text: str) -> Raw:
    """A file path or URI that may break only after a ``/`` (never mid-word), in code."""
    parts = [escape(p) for p in text.split("/")]
    return Raw(f"<code>{'/<wbr>'.join(parts)}</code>")


def number(value: int | float) -> str:
    """Thousands separated, as every kappanb table shows a number."""
    return f"{value:,}"


def _cell(value: object) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value)
    return escape("" if value is None else str(value))


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """The same table for a terminal: columns padded to their widest cell."""
    cells = [[str(h) for h in headers]] + [[_text(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )


def _text(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value)
    return "" if value is None else str(value)
