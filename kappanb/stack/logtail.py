"""The end of a service's log, and the part of it that explains a failed start."""

from __future__ import annotations

import os
import re
from pathlib import Path

from kappanb.stack.process import START_MARKER

_TAIL_BYTES = 256 * 1024
# Log records at these levels say what went well; a failed start is explained by the rest.
_ROUTINE = re.compile(r"^(\[[^\]]*\]|\d{4}-\d\d-\d\d[ T][\d:.,]+)\s+(INFO|DEBUG|TRACE)\b")
# Stack frames and other indented continuation lines (Kafka's dump of its configuration).
_CONTINUATION = re.compile(r"^\s")


def read_tail(path: Path, max_bytes: int = _TAIL_BYTES) -> str:
    """The last ``max_bytes`` of a text file, decoded leniently."""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - max_bytes))
        return fh.read().decode(errors="replace")


def last_lines(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a log (or a note that there is none yet)."""
    if not path.is_file():
        return f"(no log yet at {path})"
    return "\n".join(read_tail(path).splitlines()[-lines:])


def relevant_lines(text: str, lines: int = 15) -> list[str]:
    """What explains a failed start: the lines since the last start marker without
    routine records (INFO and below), stack frames or configuration dumps, each once;
    the last ``lines`` of them. Falls back to the plain tail when nothing is left."""
    _, marker, after = text.rpartition(START_MARKER)
    since_start = after.splitlines()[1:] if marker else after.splitlines()
    kept: list[str] = []
    for line in since_start:
        if not line.strip() or _ROUTINE.match(line) or _CONTINUATION.match(line):
            continue
        if line not in kept:
            kept.append(line)
    chosen = kept or [line for line in since_start if line.strip()]
    return [_shorten(line) for line in chosen[-lines:]]


def failure_excerpt(path: Path, lines: int = 15) -> str:
    """The relevant lines of a service's log, indented, then the log's path."""
    excerpt = relevant_lines(read_tail(path), lines) if path.is_file() else []
    shown = "\n".join(f"  {line}" for line in excerpt) or "  (the log is empty)"
    return f"{shown}\nfull log: {path}"


def _shorten(line: str, width: int = 500) -> str:
    return line if len(line) <= width else line[: width - 3] + "..."
