"""Topic schemas: a Flink column list, checked column by column, plus the event-time spec."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kappanb.core.names import check_column_name, quote
from kappanb.exceptions import InvalidNameError, SchemaError

_TYPE = re.compile(
    r"(STRING|VARCHAR(\(\d+\))?|CHAR\(\d+\)|BOOLEAN|TINYINT|SMALLINT|INT|INTEGER|BIGINT|"
    r"FLOAT|DOUBLE|DECIMAL(\(\d+(,\s*\d+)?\))?|DATE|TIME(\(\d\))?|"
    r"TIMESTAMP(\(\d\))?|TIMESTAMP_LTZ(\(\d\))?|BYTES)(\s+NOT\s+NULL)?",
    re.I,
)
_EVENT_TIME_TYPES = re.compile(r"TIMESTAMP(_LTZ)?\(3\)", re.I)
_DURATION = re.compile(r"(\d+)\s*([a-z]+)", re.I)
_UNIT_MS = {
    **dict.fromkeys(("ms", "millis", "millisecond", "milliseconds"), 1),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1000),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60_000),
    **dict.fromkeys(("h", "hour", "hours"), 3_600_000),
    **dict.fromkeys(("d", "day", "days"), 86_400_000),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str


def parse_columns(spec: str) -> tuple[Column, ...]:
    """``"id STRING, amount BIGINT, ts TIMESTAMP(3)"`` -> columns; refuse anything else."""
    columns: list[Column] = []
    for piece in _split_top_level(spec):
        parts = piece.split(None, 1)
        if len(parts) != 2:
            raise SchemaError(
                f"schema entry {piece!r} needs a name and a type, e.g. 'amount_cents BIGINT'"
            )
        name, type_ = parts[0].strip("`"), " ".join(parts[1].split())
        try:
            check_column_name(name)
        except InvalidNameError as exc:
            raise SchemaError(str(exc)) from None
        if not _TYPE.fullmatch(type_):
            raise SchemaError(
                f"column {name!r} has type {type_!r}, which kappanb does not map from JSON; use "
                "STRING, BOOLEAN, INT, BIGINT, DOUBLE, DECIMAL(p,s), DATE or TIMESTAMP(3)"
            )
        if any(c.name.lower() == name.lower() for c in columns):
            raise SchemaError(f"column {name!r} appears twice in the schema")
        columns.append(Column(name, type_.upper()))
    if not columns:
        raise SchemaError("the schema is empty: give columns like 'id STRING, ts TIMESTAMP(3)'")
    return tuple(columns)


def check_event_time(columns: tuple[Column, ...], event_time: str | None) -> None:
    if event_time is None:
        return
    found = [c for c in columns if c.name == event_time]
    if not found:
        names = ", ".join(c.name for c in columns)
        raise SchemaError(f"event-time column {event_time!r} is not in the schema ({names})")
    if not _EVENT_TIME_TYPES.match(found[0].type):
        raise SchemaError(
            f"event-time column {event_time!r} is {found[0].type}; it must be TIMESTAMP(3) "
            "or TIMESTAMP_LTZ(3)"
        )


def parse_duration_ms(text: str) -> int:
    """``'30 s'``, ``'5 min'``, ``'500 ms'``, ``'2h'``, ``'7d'`` -> milliseconds."""
    match = _DURATION.fullmatch(text.strip())
    if not match or match.group(2).lower() not in _UNIT_MS:
        raise SchemaError(
            f"{text!r} is not a duration: write e.g. '30 s', '5 min', '500 ms', '1 h' or '7 d'"
        )
    return int(match.group(1)) * _UNIT_MS[match.group(2).lower()]


def format_columns(columns: tuple[Column, ...]) -> str:
    return ", ".join(f"{quote(c.name)} {c.type}" for c in columns)


def _split_top_level(spec: str) -> list[str]:
    """Split on commas outside parentheses (DECIMAL(10, 2) stays whole)."""
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in spec:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            pieces.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current).strip())
    return [p for p in pieces if p]
