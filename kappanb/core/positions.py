"""Where a run starts reading the log and where a bounded replay stops, as Kafka source options.

``--from``: ``earliest`` (offset 0, the default for a replay), ``earliest-available`` (the
first record each partition still has: a replay accepts that retention deleted the rest),
``archive`` (the topic's archive, then the log from where the archive ends: a replay
reads its Kafka side from per-partition handoff offsets, `kappanb.versions.archive_source`),
``latest``, a timestamp
(``2026-03-04``, ``2026-03-04T12:00``, ``2026-03-04 12:00:00+01:00``) or partition offsets
(``0:120,1:98``). ``--until``: ``latest`` (the head of the log when the replay starts)
or a timestamp. Timestamps are the Kafka record timestamps, i.e. when events were
written to the log, in UTC unless an offset is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kappanb.exceptions import StartPositionError

EARLIEST_AVAILABLE = "earliest-available"
"""The start that reads what the log still has, where ``earliest`` insists on offset 0."""
ARCHIVE = "archive"
"""The start that reads the topic's archive, then the log from the archive's end."""
_WORDS = ("earliest", EARLIEST_AVAILABLE, ARCHIVE, "latest")
START_WORDS = _WORDS
"""The words ``--from`` takes (besides timestamps and offsets), for completion."""
_OFFSETS = re.compile(r"[0-9]+:[0-9]+(,[0-9]+:[0-9]+)*")  # ASCII digits only


@dataclass(frozen=True)
class ReadRange:
    """A run's start and (for a bounded replay) end in the log."""

    start: str = "earliest"
    until: str | None = None

    @property
    def bounded(self) -> bool:
        return self.until is not None

    def source_options(self) -> dict[str, str]:
        return {**_start_options(self.start), **_until_options(self.until)}

    def uses_offsets(self) -> bool:
        return bool(_OFFSETS.fullmatch(self.start))

    @property
    def from_archive(self) -> bool:
        """Does the run read its history from the archive? Its Kafka side then starts at
        offsets known only when it starts (the handoff), not in these options."""
        return self.start == ARCHIVE


def read_range(start: str | None, until: str | None) -> ReadRange:
    """Validate ``--from`` and ``--until`` (raising with the accepted forms) and keep them."""
    rng = ReadRange(start.strip() if start else "earliest", until.strip() if until else None)
    rng.source_options()
    if rng.until and not rng.uses_offsets() and rng.start not in _WORDS:
        begin = _start_options(rng.start)["scan.startup.timestamp-millis"]
        end = _until_options(rng.until).get("scan.bounded.timestamp-millis")
        if end is not None and int(end) <= int(begin):
            raise StartPositionError(f"--until {rng.until} is not after --from {rng.start}")
    return rng


def _start_options(start: str) -> dict[str, str]:
    if start in ("earliest", "latest"):
        return {"scan.startup.mode": f"{start}-offset"}
    if start == EARLIEST_AVAILABLE:  # Kafka's earliest is the first record still there
        return {"scan.startup.mode": "earliest-offset"}
    if start == ARCHIVE:  # the Kafka side's offsets are the handoff's, fixed at the start
        return {}
    if _OFFSETS.fullmatch(start):
        pairs = [p.split(":") for p in start.split(",")]
        spec = ";".join(f"partition:{p},offset:{o}" for p, o in pairs)
        return {"scan.startup.mode": "specific-offsets", "scan.startup.specific-offsets": spec}
    return {"scan.startup.mode": "timestamp", "scan.startup.timestamp-millis": _millis(start)}


def _until_options(until: str | None) -> dict[str, str]:
    if until is None:
        return {}
    if until == "latest":
        return {"scan.bounded.mode": "latest-offset"}
    try:
        millis = _millis(until)
    except StartPositionError:
        raise StartPositionError(
            f"--until {until!r}: use latest (the head of the log now) or a timestamp like "
            "2026-03-04T12:00 (UTC unless it has an offset)"
        ) from None
    return {"scan.bounded.mode": "timestamp", "scan.bounded.timestamp-millis": millis}


def _millis(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise StartPositionError(
            f"{text!r} is not a position: use earliest, latest, earliest-available, archive, a "
            "timestamp like 2026-03-04T12:00 (UTC unless it has an offset) or partition "
            "offsets like 0:120,1:98"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Exact to the millisecond (a float's timestamp() * 1000 may land 1 ms early).
    return str((moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1))
