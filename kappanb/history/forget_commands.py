"""The API's `forget`: a deletion request against a topic's archive (`kappanb.history.forget`).
`kappanb.workbench.Workbench` has it. Every check that needs no stack comes first (the topic,
the condition, the deadline, that an archive was started), then the archive's columns; only
then is anything written. It holds the archive's lock while it acts, so no `archive` start
or stop runs meanwhile (the archive's job itself keeps appending: the delete allows for it).
"""

from __future__ import annotations

from kappanb.core.durations import grace_ms
from kappanb.exceptions import ArchiveNotFoundError, DurationError
from kappanb.history.forget import ForgetRequest, forget_events
from kappanb.history.forget_report import ForgetReport
from kappanb.registry.base import Registry
from kappanb.stack.endpoints import Endpoints
from kappanb.stack.health import StackHealth, command
from kappanb.tables.catalog import table_exists
from kappanb.tables.where import parse_where
from kappanb.versions import definitions
from kappanb.versions.archive_ddl import archive_job, archive_lock

DEFAULT_DEADLINE = "30d"
"""How long a deletion request may take to reach every copy (the issue's example: DPDP)."""


class ForgetCommands:
    """forget."""

    registry: Registry
    _health: StackHealth

    def endpoints(self) -> Endpoints:
        """The running stack's endpoints (the workbench gives them)."""
        raise NotImplementedError

    @command
    def forget(
        self, topic: str, *, where: str, deadline: str = DEFAULT_DEADLINE,
        expire_history: bool = False,
    ) -> ForgetReport:  # fmt: skip
        """Delete the events of ``topic`` that ``where`` (a SQL condition on the archive's
        columns) matches from its archive, write tombstones for their keys when the topic
        is compacted, and report the output tables that may still hold rows derived from
        them (with the replays that rebuild them from the archive) and when the Kafka log
        drops them, against ``deadline`` (``30d``). ``expire_history`` expires the archive's
        snapshots before the delete too, deleting the files that held the events (no time
        travel before it; a replay reading an older snapshot of the archive would fail)."""
        spec = definitions.find_topic(self.registry, topic)
        condition = parse_where(where)
        deadline_ms = grace_ms(deadline)
        if deadline_ms <= 0:
            raise DurationError(f"--deadline {deadline!r}: a deadline is a time above 0, e.g. 30d")
        runs = self.registry.runs(archive_job(spec.name))
        if not runs:
            raise ArchiveNotFoundError(
                f"{spec.name} has no archive, and forget deletes from it (the archive also "
                f"gives the keys to tombstone): `archive {spec.name}` first, then `forget` "
                "once `status` shows it caught up; nothing was deleted"
            )
        endpoints = self.endpoints()
        table = runs[-1].table
        if not table_exists(endpoints.catalog, table):
            raise ArchiveNotFoundError(
                f"the archive table {table} of {spec.name} is gone from the catalog: "
                f"`archive {spec.name}` again; nothing was deleted"
            )
        request = ForgetRequest(spec, condition, table, deadline_ms, expire_history)
        with self.registry.job_lock(archive_lock(spec.name), f"forget {spec.name}"):
            return forget_events(request, endpoints.catalog, endpoints.kafka, self.registry)
