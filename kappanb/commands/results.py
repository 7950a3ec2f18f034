"""Small result types for commands whose answer is text, a listing or a combined status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from kappanb.display.html import html_table, text_table
from kappanb.display.plain import plain_text
from kappanb.jobs.report import StatusReport
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
