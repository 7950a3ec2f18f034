"""Job locks on the registry's log: who may change a job now, decided by broker time only.

A command that changes a job (run, replay, promote, ...) appends ``acquire``; while it
runs, a heartbeat appends ``renew`` every third of the lease; at the end it appends
``release``. Every machine applies these events in the log's order with the functions
here, which take no clock but the deciding event's own timestamp (the broker's
``LogAppendTime``), so all machines decide the same:

- ``acquire`` is granted when nobody holds the job, or when the holder's lease has run
  out: no ``renew`` for ``lease_ms`` of broker time before this very event. A holder
  that died (a killed kernel, a lost laptop) blocks its job for one lease at most.
- ``renew`` extends the holder's own lease, unless it has already run out: a holder cut
  off from Kafka for longer than its lease has lost the job (someone else may hold it by
  now) and gets it back only by acquiring again.
- ``release`` ends the holder's own lease, and nobody else's.

Pure functions, no I/O: the unit tests drive them with invented timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Holder:
    """A command holding (or asking for) a job's lock, and where it runs."""

    token: str
    """Unique per acquisition: only the one who acquired renews or releases."""
    command: str
    user: str
    host: str
    pid: int

    def describe(self, since_ms: int) -> str:
        since = datetime.fromtimestamp(since_ms / 1000, UTC).strftime("%H:%M:%S")
        return f"`{self.command}`, pid {self.pid} on {self.host} as {self.user}, since {since} UTC"


@dataclass(frozen=True)
class Lease:
    """A granted lock: its holder, when it was granted and last renewed (broker time)."""

    holder: Holder
    since_ms: int
    renewed_ms: int
    lease_ms: int

    def live_at(self, at_ms: int) -> bool:
        """Whether the lease still holds at broker time ``at_ms``."""
        return at_ms - self.renewed_ms < self.lease_ms

    def describe(self) -> str:
        return self.holder.describe(self.since_ms)

    def to_json(self) -> dict[str, Any]:
        return {
            "holder": vars(self.holder),
            "since_ms": self.since_ms,
            "renewed_ms": self.renewed_ms,
            "lease_ms": self.lease_ms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Lease:
        return cls(Holder(**data["holder"]), data["since_ms"], data["renewed_ms"],
                   data["lease_ms"])  # fmt: skip


@dataclass(frozen=True)
class Decision:
    """What an event did to a job's lock: the lease now (None: free) and the answer."""

    lease: Lease | None
    granted: bool
    busy: str = ""
    """Who holds the job, when an ``acquire`` was refused."""


def acquire(current: Lease | None, holder: Holder, lease_ms: int, at_ms: int) -> Decision:
    """Grant ``holder`` the job unless a live lease holds it at ``at_ms``."""
    if current is not None and current.live_at(at_ms):
        return Decision(current, granted=False, busy=current.describe())
    return Decision(Lease(holder, at_ms, at_ms, lease_ms), granted=True)


def renew(current: Lease | None, token: str, at_ms: int) -> Decision:
    """Extend the lease of ``token``'s holder, if it holds the job and its lease is live."""
    if current is None or current.holder.token != token:
        return Decision(current, granted=False)
    if not current.live_at(at_ms):
        return Decision(None, granted=False)  # ran out: the job is free
    return Decision(Lease(current.holder, current.since_ms, at_ms, current.lease_ms), True)


def release(current: Lease | None, token: str) -> Decision:
    """End the lease of ``token``'s holder; anyone else's stays."""
    if current is None or current.holder.token != token:
        return Decision(current, granted=False)
    return Decision(None, granted=True)
