"""What has been counted of one dead-letter topic, kept in a file so nothing is read twice.

A tally holds, for one dead-letter topic, the next offset to read in each of its
partitions and, per run id, the distinct source positions of the run's malformed events
(as `OffsetRanges` per source topic and partition). Each state it is saved in is whole:
the positions of exactly the records before ``next``. The file is replaced atomically,
so a `status` in a shell and a watch panel in a kernel may share it: the last writer
wins, and whichever state a reader loads, it reads the topic on from its ``next``.

A topic that is deleted and created again gets a new topic id: its old tally is dropped.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kappanb.kafka.offset_ranges import OffsetRanges

_FORMAT = 1

Found = dict[int, dict[str, dict[int, OffsetRanges]]]
"""run id -> source topic -> source partition -> offsets of its malformed events there."""


@dataclass
class Tally:
    topic_id: str | None = None
    next: dict[int, int] = field(default_factory=dict)
    """Per partition of the dead-letter topic: the next offset to read."""
    found: Found = field(default_factory=dict)

    def count(self, run_id: int) -> int:
        """Distinct malformed events of ``run_id`` among the records counted."""
        per_topic = self.found.get(run_id, {})
        return sum(len(offsets) for parts in per_topic.values() for offsets in parts.values())

    def add(self, batch: dict[tuple[int, str, int], list[int]]) -> None:
        """Add source offsets keyed by (run id, source topic, source partition)."""
        for (run, topic, partition), offsets in batch.items():
            parts = self.found.setdefault(run, {}).setdefault(topic, {})
            parts.setdefault(partition, OffsetRanges()).add_all(offsets)

    def to_json(self) -> str:
        found = {
            str(run): {t: {str(p): o.bounds for p, o in parts.items()} for t, parts in per.items()}
            for run, per in self.found.items()
        }
        return json.dumps({
            "format": _FORMAT, "topic_id": self.topic_id,
            "next": {str(p): n for p, n in self.next.items()}, "found": found,
        }, separators=(",", ":"))  # fmt: skip

    @staticmethod
    def from_json(text: str) -> Tally:
        data = json.loads(text)
        if data.get("format") != _FORMAT:
            return Tally()
        found: Found = {
            int(run): {
                t: {int(p): OffsetRanges(b) for p, b in parts.items()} for t, parts in per.items()
            }
            for run, per in data["found"].items()
        }
        next_offsets = {int(p): int(n) for p, n in data["next"].items()}
        return Tally(data.get("topic_id"), next_offsets, found)


class TallyFile:
    """One topic's tally on disk (``<folder>/<topic>.json``); loads only when it changed."""

    def __init__(self, folder: Path, topic: str) -> None:
        self.path = folder / f"{topic}.json"  # Kafka topic names are safe file names
        self._seen: tuple[int, int] | None = None

    def changed(self) -> bool:
        """True when the file differs from the one last loaded or saved here."""
        return self._stamp() != self._seen

    def load(self) -> Tally:
        try:
            stamp, text = self._stamp(), self.path.read_text()
        except FileNotFoundError:
            return Tally()
        self._seen = stamp
        try:
            return Tally.from_json(text)
        except (ValueError, KeyError, TypeError, AttributeError):
            return Tally()  # damaged: counting again from the start is always right

    def save(self, tally: Tally) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(tally.to_json())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._seen = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_ino
