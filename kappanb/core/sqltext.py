"""A job's text: normalised for versioning, split into statements, errors mapped to lines."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

_COMMENT_OR_QUOTED = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|`[^`]*`|--[^\n]*|/\*.*?\*/", re.S)
_QUOTED_OR_SPACE = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|`[^`]*`|\s+")
_FLINK_POSITION = re.compile(r"line (\d+), column (\d+)")
STATEMENT_KEYWORDS = ("SELECT", "WITH", "VALUES", "INSERT", "CREATE", "EXECUTE")
"""The words a statement of a job cell starts with."""


def normalise(text: str, kind: str = "sql") -> str:
    """SQL without comments, whitespace collapsed outside quotes, no trailing ';'.

    Python text keeps its layout (indentation is syntax); only trailing blanks go.
    """
    if kind == "python":
        return "\n".join(line.rstrip() for line in text.strip().splitlines())
    stripped = _strip_comments(text)
    collapsed = _QUOTED_OR_SPACE.sub(lambda m: " " if m.group().isspace() else m.group(), stripped)
    return collapsed.strip().rstrip(";").strip()


def digest(text: str, kind: str = "sql") -> str:
    return hashlib.sha256(f"{kind}\n{normalise(text, kind)}".encode()).hexdigest()


@dataclass(frozen=True)
class Statement:
    text: str
    first_line: int
    """1-based line of the cell where the statement starts."""
    first_column: int = 1
    """1-based column of that line where it starts."""


def statements(script: str) -> list[Statement]:
    """Split on ';' outside quotes and comments, remembering where each statement starts."""
    found: list[Statement] = []
    start, quote, i, line, start_line = 0, "", 0, 1, 1
    while i < len(script):
        ch = script[i]
        if quote:
            quote = "" if ch == quote else quote
        elif script.startswith("--", i):
            end = script.find("\n", i)
            i = len(script) if end < 0 else end
            continue
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            end = len(script) if end < 0 else end + 2
            line += script.count("\n", i, end)
            i = end
            continue
        elif ch in "'\"`":
            quote = ch
        elif ch == ";":
            _add(found, script, start, i, start_line)
            start, start_line = i + 1, line
        if ch == "\n":
            line += 1
        i += 1
    _add(found, script, start, len(script), start_line)
    return found


def _add(found: list[Statement], script: str, start: int, end: int, line: int) -> None:
    stripped = _strip_comments(script[start:end])
    text = stripped.strip()
    if not text:
        return
    # Comments keep their length's worth of newlines only, so find the start in the script.
    lead = stripped[: len(stripped) - len(stripped.lstrip())]
    first = script.find(text.split(None, 1)[0], start)
    line_start = script.rfind("\n", 0, first) + 1
    found.append(Statement(text, line + lead.count("\n"), first - line_start + 1))


def _strip_comments(text: str) -> str:
    """Remove comments but keep their newlines, so line numbers still point into the cell."""
    return _COMMENT_OR_QUOTED.sub(
        lambda m: m.group() if m.group()[0] in "'\"`" else "\n" * m.group().count("\n"), text
    )


def offending_line(message: str, statement: Statement, cell: str) -> str:
    """'line 3 of the cell: <that line>' from a Flink 'line N, column M' position, or ''."""
    match = _FLINK_POSITION.search(message)
    if not match:
        return ""
    number = statement.first_line + int(match.group(1)) - 1
    column = int(match.group(2))
    if match.group(1) == "1":  # the statement was sent without what precedes it on its line
        column += statement.first_column - 1
    return cell_line(cell, number, column)


def cell_line(cell: str, number: int, column: int) -> str:
    """'line N of the cell:' then that line and a caret under ``column``; '' if no such line."""
    lines = cell.splitlines()
    if not 1 <= number <= len(lines):
        return ""
    return f"line {number} of the cell:\n    {lines[number - 1]}\n    {' ' * (column - 1)}^"


def keyword_hint(statement: Statement) -> str:
    """'did you mean SELECT?' when the statement's first word is a near miss of a keyword
    a job's statement starts with; '' otherwise (a right keyword, or nothing close)."""
    word = statement.text.split(None, 1)[0].upper() if statement.text else ""
    close = difflib.get_close_matches(word, STATEMENT_KEYWORDS, n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close and word not in STATEMENT_KEYWORDS else ""


_UNKNOWN_COLUMN = re.compile(r"Column '([^']+)' not found in (?:any table|table '[^']+')")


def column_hint(message: str, columns: Sequence[str]) -> str:
    """'did you mean amount_cents?' when Flink's ``message`` says a column is not found
    and one of ``columns`` is close to it (or starts with it); '' otherwise."""
    match = _UNKNOWN_COLUMN.search(message)
    if not match:
        return ""
    word = match.group(1)
    by_case = {c.lower(): c for c in columns}
    close = difflib.get_close_matches(word.lower(), list(by_case), n=1, cutoff=0.6)
    close = close or [c for c in by_case if c.startswith(word.lower())][:1]
    return f"did you mean {by_case[close[0]]}?" if close else ""
