"""Turn what a user hands to produce (frames, lists of dicts) into plain JSON-ready records.

Values are made to fit Flink's JSON format (timestamps in its ``SQL`` form, which kappa-json
reads beside the other forms `parse_timestamp` describes):

- datetimes (``datetime``, polars ``Datetime``, pandas ``Timestamp``) become
  ``"YYYY-MM-DD HH:MM:SS.mmm"``: tz-aware values are converted to UTC and the zone is
  dropped, naive values are taken as they are; sub-millisecond digits are truncated;
- dates become ``"YYYY-MM-DD"``;
- ``Decimal`` becomes a string (exact; Flink's JSON format reads a ``DECIMAL`` from a string);
- missing values (``None``, ``NaN``, pandas ``NaT``) become ``None`` (JSON ``null``);
- numpy scalars and arrays become the matching Python numbers, bools and lists;
- lists and dicts inside a record are converted value by value.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from kappanb.exceptions import ProduceError

ACCEPTED = "a polars DataFrame, a pandas DataFrame, or a list (or other iterable) of dicts"


def sql_timestamp(value: datetime) -> str:
    """The datetime as Flink's SQL timestamp text, ``YYYY-MM-DD HH:MM:SS.mmm`` (UTC if tz-aware)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond // 1000:03d}"


def to_records(data: object) -> Iterator[dict[str, Any]]:
    """An iterator of plain records (str keys, JSON types) from a frame or an iterable of dicts.

    The input is checked at once; the records are made lazily, so an endless generator of
    dicts works. Raises ProduceError for anything else, or for an element that is not a dict.
    """
    module = type(data).__module__
    if module.startswith("polars"):
        import polars as pl

        if isinstance(data, pl.DataFrame):
            return _plain_rows(data.iter_rows(named=True))
    elif module.startswith("pandas"):
        pd = importlib.import_module("pandas")  # optional, and typed loosely: no stubs needed
        if isinstance(data, pd.DataFrame):
            return _plain_rows(data.to_dict(orient="records"))
    if isinstance(data, str | bytes | bytearray | Mapping) or not isinstance(data, Iterable):
        hint = " (a single dict: wrap it in a list)" if isinstance(data, Mapping) else ""
        raise ProduceError(f"cannot produce a {type(data).__name__}{hint}: give {ACCEPTED}.")
    return _checked_rows(data)


def _checked_rows(rows: Iterable[object]) -> Iterator[dict[str, Any]]:
    """Each element of a user's iterable, refused unless it is a dict (a Mapping)."""
    for position, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ProduceError(
                f"element {position} is a {type(row).__name__}, not a dict: give {ACCEPTED}."
            )
        yield _plain_mapping(row)


def _plain_rows(rows: Iterable[Mapping[Any, Any]]) -> Iterator[dict[str, Any]]:
    """The rows of a frame, their values made plain."""
    for row in rows:
        yield _plain_mapping(row)


def _plain_mapping(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A dict with str keys and plain values."""
    return {str(name): plain_value(value) for name, value in row.items()}


def plain_value(value: Any) -> Any:
    """One value made JSON-ready the way the module docstring describes."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if type(value).__name__ == "NaTType":  # pandas' missing datetime is a datetime subclass
        return None
    if isinstance(value, datetime):
        return sql_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return _plain_mapping(value)
    if isinstance(value, list | tuple):
        return [plain_value(item) for item in value]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return plain_value(value.tolist())  # a numpy scalar or array
    return value


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)?"
)


def parse_timestamp(text: str) -> datetime | None:
    """The text as an aware UTC datetime if kappa-json reads it as a timestamp, else None.

    The same grammar as the format (kappanb/jvm/formats, ``Timestamps.java``): a date, ``T``
    or a space, ``HH:MM[:SS[.fraction]]`` with 0 to 9 fractional digits (truncated to
    microseconds here), then an optional ``Z`` or offset (``+05:30``, ``-0800``, ``+05``);
    without one the time is UTC, with one it is converted to UTC.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    offset_minutes = int(off_h or 0) * 60 + int(off_m or 0)
    if int(off_h or 0) > 18 or int(off_m or 0) > 59:
        return None
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute),
                         int(second or 0), int((fraction or "0")[:6].ljust(6, "0")))  # fmt: skip
    except ValueError:
        return None
    shift = timedelta(minutes=-offset_minutes if sign == "+" else offset_minutes)
    return (local + shift).replace(tzinfo=UTC)
