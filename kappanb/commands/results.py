"""Small result types for commands whose answer is text, a listing or a combined status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import polars as pl

from kappanb.display.html import html_table, text_table
from kappanb.display.plain import plain_text
from kappanb.runs.report import StatusReport
from kappanb.stack.status import StackStatus


@plain_text
@dataclass(frozen=True)
class TextResult:
    """Plain text (shown preformatted in a notebook) with the CLI's exit code."""

    text: str
    exit_code: int = 0
    html: str = ""

    @classmethod
    def listing(
        cls, what: str, headers: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> TextResult:
        if not rows:
            return cls(f"no {what} yet")
        return cls(text_table(headers, rows), html=html_table(headers, rows))

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return self.html or f"<pre>{escape(self.text)}</pre>"


@plain_text
@dataclass(frozen=True)
class FullStatus:
    """The stack's health and, when it is healthy, every run."""

    stack: StackStatus
    runs: StatusReport | None

    @property
    def exit_code(self) -> int:
        return 0 if self.stack.healthy else 3

    def __str__(self) -> str:
        return str(self.stack) + ("" if self.runs is None else f"\n\n{self.runs}")

    def _repr_html_(self) -> str:
        runs = "" if self.runs is None else self.runs._repr_html_()
        return self.stack._repr_html_() + runs


class OutputFrame(pl.DataFrame):
    """A version's whole output, as `read` returns it: a polars DataFrame whose display
    alone is cut to its first rows, and says so ("834 rows, first 20 shown").

    Only the notebook views are changed (``_repr_html_``, ``__repr__``); ``str()`` is
    polars' own, which the CLI prints in full. Frames derived from it may come back as
    plain polars DataFrames, shown the polars way."""

    SHOWN = 20

    @classmethod
    def of(cls, frame: pl.DataFrame) -> OutputFrame:
        return cls(frame)

    def caption(self) -> str:
        rows = f"{self.height:,} row{'' if self.height == 1 else 's'}"
        return rows if self.height <= self.SHOWN else f"{rows}, first {self.SHOWN} shown"

    def _repr_html_(self, *, _from_series: bool = False) -> str:
        with pl.Config(tbl_rows=self.SHOWN, tbl_hide_dataframe_shape=True):
            table = pl.DataFrame(self.head(self.SHOWN))._repr_html_()
        return f"<p><i>{escape(self.caption())}</i></p>{table}"

    def __repr__(self) -> str:
        with pl.Config(tbl_rows=self.SHOWN, tbl_hide_dataframe_shape=True):
            table = str(pl.DataFrame(self.head(self.SHOWN)))
        return f"{self.caption()}\n{table}"
