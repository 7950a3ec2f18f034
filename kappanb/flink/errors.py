"""Turn a Java exception chain from the Flink planner into a message a user can act on."""

from __future__ import annotations

import re

_EXCEPTION_LINE = re.compile(
    r"^(?::\s*|Caused by:\s*)?((?:[a-z0-9_$]+\.)+[A-Za-z0-9_$]+(?:Exception|Error)):?\s?(.*)$"
)
_POSITION = re.compile(r"line \d+, column \d+")


def flink_error_message(exc: BaseException) -> str:
    """The deepest cause's message (class names dropped), plus the position Flink gave, if any."""
    text = str(exc)
    messages = []
    for line in text.splitlines():
        match = _EXCEPTION_LINE.match(line.strip())
        if match and match.group(2).strip():
            messages.append(match.group(2).strip())
    if not messages:
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        return first
    deepest = messages[-1]
    position = _POSITION.search(text)
    if position and position.group() not in deepest:
        deepest = f"{deepest} (at {position.group()})"
    return deepest
