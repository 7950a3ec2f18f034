"""What an argument's value may be: the `type=` converters of the subcommands' arguments.

Each turns the word typed into the value a handler gets, or raises
`argparse.ArgumentTypeError` with a message that says what to write instead.
"""

from __future__ import annotations

import argparse

from kappanb.cluster.ports import MAX_BASE
from kappanb.core.durations import grace_ms
from kappanb.core.names import parse_version
from kappanb.exceptions import DurationError


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def port_base(raw: str) -> int:
    """The local cluster's first port: its ports are this and up to 49 above it."""
    value = positive_int(raw)
    if not 1024 <= value <= MAX_BASE:
        raise argparse.ArgumentTypeError(f"must be from 1024 to {MAX_BASE}, not {value}")
    return value


def _number(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from None


def non_negative_float(raw: str) -> float:
    value = _number(raw)
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {raw}")
    return value


def positive_float(raw: str) -> float:
    value = _number(raw)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {raw}")
    return value


def share(raw: str) -> float:
    value = float(raw) if raw.replace(".", "", 1).isdigit() else -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, not {raw!r}")
    return value


def version(raw: str) -> int:
    try:
        return parse_version(raw)
    except Exception as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def grace(raw: str) -> str:
    """A grace period (``7d``, ``36h``), checked here and passed on as written."""
    try:
        grace_ms(raw)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return raw


def key_list(raw: str) -> list[str]:
    return [k.strip() for k in raw.split(",") if k.strip()]


def iso_time(raw: str) -> str:
    from datetime import datetime

    try:
        datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not a time: write e.g. 2026-03-01 or 2026-03-01T09:30"
        ) from None
    return raw
