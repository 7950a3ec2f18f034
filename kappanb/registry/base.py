"""What every registry offers the API: topics, job versions, runs, switches, job locks.

Two implementations, chosen by the stack's places (`registry.open.open_registry`):

- `store.LocalRegistry`: a SQLite file in the kappanb home, with ``flock`` job locks;
  for everyone on one machine (the embedded stack; a cluster profile with
  ``registry: local``).
- `shared.LogRegistry`: a Kafka topic of the cluster holding every change as an event,
  materialized into a SQLite cache on each machine, with job locks held by leases on
  the same log; for people on several machines sharing one cluster.

Nothing above the registry knows which one it has.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from kappanb.registry.kinds import RunState, SwitchKind
from kappanb.registry.records import JobVersion, Removal, RunRecord, Switch, TopicSpec

TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"


def now() -> str:
    """This machine's clock, in the registry's format (for times a caller records)."""
    return datetime.now(UTC).strftime(TIME_FORMAT)


def now_ms() -> int:
    """This machine's clock in milliseconds since the epoch: the local registry's clock
    (a test gives the registry another)."""
    return int(datetime.now(UTC).timestamp() * 1000)


def time_text(ms: int) -> str:
    """A time in milliseconds since the epoch (a Kafka timestamp), in the registry's format."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime(TIME_FORMAT)


class Registry(Protocol):
    """Topics, job versions, runs and serving switches of one home or one cluster."""

    @property
    def path(self) -> Path:
        """The SQLite file on this machine: the registry itself, or the log's cache."""
        ...

    def job_lock(self, job: str, command: str) -> AbstractContextManager[None]:
        """Hold ``job``'s lock while ``command`` checks and acts; raises `JobBusyError`
        at once, naming the holder, when another command holds it."""
        ...

    def put_topic(self, topic: TopicSpec) -> TopicSpec:
        """Record (or replace) a topic; stamps its creation time unless it has one."""
        ...

    def topics(self) -> list[TopicSpec]: ...

    def add_version(self, draft: JobVersion) -> tuple[JobVersion, bool]:
        """Record ``draft`` as the next version unless one has the same digest: the
        version (new or existing) and whether it was created."""
        ...

    def versions(self, job: str | None = None) -> list[JobVersion]: ...

    def add_run(self, run: RunRecord) -> RunRecord:
        """Record a run under the next id."""
        ...

    def delete_run(self, run_id: int) -> None:
        """Forget a run whose submission failed (its id was reserved beforehand)."""
        ...

    def update_run(
        self, run_id: int, *, if_flink_job: str | None = None, state: RunState | None = None,
        **changes: Any,
    ) -> RunRecord:  # fmt: skip
        """Change a run; with ``if_flink_job``, only while it still has that Flink job."""
        ...

    def runs(self, job: str | None = None, version: int | None = None) -> list[RunRecord]: ...

    def switch(
        self, job: str, to_version: int, table: str, *, kind: SwitchKind, expect_from: int | None,
        reason: str = "", forced: bool = False, also: Callable[[], None] | None = None,
    ) -> Switch:  # fmt: skip
        """Point ``job``'s alias at ``to_version``; refused (`PromoteError`) when it no
        longer points at ``expect_from``. ``also`` (the catalog's mirror of the alias) runs
        before the switch is recorded; if it fails, nothing is switched."""
        ...

    def serving(self, job: str) -> Switch | None:
        """The switch in force: which version (and table) the alias points at now."""
        ...

    def switches(self, job: str) -> list[Switch]: ...

    def schedule_removal(self, job: str, version: int, table: str, after_ms: int) -> Removal:
        """Schedule ``table`` for removal ``after_ms`` from now on the registry's clock;
        refused (`RemovalRefusedError`) while ``version`` is served or the rollback target."""
        ...

    def removals(self, job: str | None = None) -> list[Removal]:
        """Every removal scheduled (of ``job``), done or not, oldest first."""
        ...

    def due_removals(self) -> list[Removal]:
        """The pending removals that look due now (`claim_removal` decides)."""
        ...

    def claim_removal(self, removal_id: int) -> Removal:
        """Decide, at the registry's time now, whether a removal goes ahead: ``removing``
        (drop its table, then `finish_removal`), ``cancelled`` (no longer safe, the note
        says why) or unchanged (not due, or done already)."""
        ...

    def finish_removal(self, removal_id: int) -> Removal:
        """Record that a claimed removal's table is gone."""
        ...
