"""Turn what a user hands to produce (frames, lists of dicts) into plain JSON-ready records.

Values are made to fit Flink's JSON format with its default ``SQL`` timestamp standard:

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
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
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


def mark_utc(records: Iterable[dict[str, Any]], columns: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Append Flink's 'Z' to text values of TIMESTAMP_LTZ columns (its SQL JSON format wants it).

    kappanb's timestamps are UTC wall-clock text, so the suffix states what they already are.
    """
    names = list(columns)
    for record in records:
        for name in names:
            value = record.get(name)
            if isinstance(value, str) and value and not value.endswith("Z"):
                record = {**record, name: f"{value}Z"}
        yield record
