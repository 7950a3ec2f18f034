"""Which rows of a data file an equality delete can match, without hashing every row each read.

Why: a live updating table's read applies the equality deletes committed since its last
rewrite to every older data file, the big rewritten one included. Probing every row's key
against the deletes' keys costs about as much as decoding the file (a hash of each key,
strings mostly), so a table a few commits after its rewrite read nearly twice as slow as
the same rows freshly written, however few the deletes. A data file never changes once
committed (Iceberg writes a new file for any change), so its rows' key hashes are sorted
once per process and kept, keyed by the file's path and key columns; a read then finds
the candidate rows by a binary search per delete key. Candidates are only candidates (two
keys can share a hash): `merge_read` checks them against the deletes' values exactly.

Bounded by the rows indexed (16 bytes a row); least recently used files go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]

MAX_ROWS = 5_000_000
MIN_ROWS = 10_000
"""Smaller files are probed directly: hashing their rows costs less than keeping them."""
Index = tuple[pl.Series, pl.Series]  # the rows' key hashes sorted; their row positions
_Key = tuple[str, tuple[str, ...], tuple[str, ...]]  # path, key columns, their types


class KeyIndexes:
    """Sorted key hashes of data files, at most ``max_rows`` rows in all."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.max_rows = max_rows
        self._kept: OrderedDict[_Key, Index] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()

    def index(self, path: str, rows: pa.Table, keys: Sequence[str]) -> Index:
        """The index of data file ``path`` (whose rows are ``rows``) on ``keys``."""
        key = (path, tuple(keys), tuple(str(rows.schema.field(k).type) for k in keys))
        with self._lock:
            if (kept := self._kept.get(key)) is not None:
                self._kept.move_to_end(key)
                return kept
        built = build(rows, keys)
        with self._lock:
            if key not in self._kept and rows.num_rows <= self.max_rows:
                self._kept[key] = built
                self._rows += rows.num_rows
                while self._rows > self.max_rows:
                    _, gone = self._kept.popitem(last=False)
                    self._rows -= len(gone[0])
        return built

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._rows = 0

    def __len__(self) -> int:
        return len(self._kept)


def build(rows: pa.Table, keys: Sequence[str]) -> Index:
    """The rows' key hashes, sorted, with the position of each."""
    hashed = hashes(rows, keys)
    order = hashed.arg_sort()
    return hashed.gather(order), order.cast(pl.Int64)


def candidates(index: Index, wanted: pl.Series) -> pl.Series:
    """Positions of the indexed rows whose key hash is in ``wanted`` (`hashes` of the
    deletes' keys, of the same types as the file's): a superset of the rows whose key
    equals a delete's (null equal to null)."""
    hashes, order = index
    if len(wanted) * 16 > len(hashes):  # many keys: one probe of every row costs less
        return order.filter(hashes.is_in(wanted.implode()))
    spans = pl.DataFrame(
        {
            "lo": hashes.search_sorted(wanted, side="left"),
            "hi": hashes.search_sorted(wanted, side="right"),
        }
    ).filter(pl.col("hi") > pl.col("lo"))
    at = spans.select(pl.int_ranges("lo", "hi").explode().alias("at"))["at"]
    return order.gather(at)


def hashes(rows: pa.Table, keys: Sequence[str]) -> pl.Series:
    """One hash a row over ``keys``: equal values of equal types hash alike, nulls too."""
    frame = pl.DataFrame(rows.select(list(keys)))
    return frame.hash_rows()
