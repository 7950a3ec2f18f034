"""A process-wide cache of what committed Iceberg manifests list, keyed by manifest path.

Why: planning a read opens every manifest of the snapshot, and pyiceberg decodes each one
in a few milliseconds however few files it lists. A live table that checkpoints often
carries dozens of manifests (one or two per commit until a rewrite or merge); its reads
were mostly spent decoding them again, though a committed manifest never changes: Iceberg
writes a new file for any change, and the manifest list fixes the sequence number its
entries inherit. So a manifest's decoded entries are kept, keyed by its path and that
sequence number, and a later read of a live table decodes only the manifests committed
since. Bounded by the number of entries kept; least recently used manifests go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
Key = tuple[str, int]  # manifest path, its sequence number in the manifest list
MAX_ENTRIES = 500_000


class ManifestCache(Generic[T]):
    """Decoded entries of manifests, at most ``max_entries`` of them in all."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._kept: OrderedDict[Key, tuple[T, ...]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Key, load: Callable[[], Sequence[T]]) -> tuple[T, ...]:
        """The manifest's entries, from ``load()`` the first time."""
        with self._lock:
            if (kept := self._kept.get(key)) is not None:
                self._kept.move_to_end(key)
                return kept
        entries = tuple(load())
        with self._lock:
            if key not in self._kept and len(entries) <= self.max_entries:
                self._kept[key] = entries
                self._size += len(entries)
                while self._size > self.max_entries:
                    _, gone = self._kept.popitem(last=False)
                    self._size -= len(gone)
        return entries

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._size = 0

    def __len__(self) -> int:
        """How many manifests are kept."""
        return len(self._kept)
