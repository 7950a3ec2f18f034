"""The API's archive commands: `archive` (start, go on, ``stop``) and `archive_status`.
`kappanb.workbench.Workbench` has them; each checks the topic before the stack is asked,
and holds the archive's lock (``archive.<topic>``) while it acts."""

from __future__ import annotations

from kappanb.exceptions import ArchiveNotFoundError
from kappanb.history.archive_report import ArchiveLag, ArchiveResult, ArchiveStatus
from kappanb.registry.base import Registry
from kappanb.runs.archive import ArchiveControl
from kappanb.runs.control import RunControl
from kappanb.stack.health import StackHealth, command
from kappanb.tables.archive_coverage import archive_coverage
from kappanb.tables.catalog import committed_rows
from kappanb.versions import definitions
from kappanb.versions.archive_ddl import archive_job, archive_lock, check_archivable


class ArchiveCommands:
    """archive and archive_status."""

    registry: Registry
    _health: StackHealth

    def _control(self) -> RunControl:
        """Runs of the home against its running stack (the workbench gives it)."""
        raise NotImplementedError

    @command
    def archive(self, topic: str, *, stop: bool = False) -> ArchiveResult:
        """Mirror every record of ``topic``, from its earliest offset, unbounded and exactly
        once, into the Iceberg table ``archive__<table>`` (partition, offset, Kafka
        timestamp, key, the value as it was, why it does not decode, the declared columns).
        An archive that ended goes on from its savepoint or checkpoint; ``stop`` stops the
        running one with a savepoint. `status TOPIC` shows how far behind the head it is."""
        spec = definitions.find_topic(self.registry, topic)
        if not stop:
            check_archivable(spec)
        archives = ArchiveControl(self._control())
        what = f"archive {spec.name}{' --stop' if stop else ''}"
        with self.registry.job_lock(archive_lock(spec.name), what):
            return archives.stop(spec.name) if stop else archives.start(spec)

    @command
    def archive_status(self, topic: str) -> ArchiveStatus:
        """The topic's newest archive run: its state, records behind the head per
        partition (while it runs), the rows its table holds and the offsets they cover."""
        spec = definitions.find_topic(self.registry, topic)
        if not self.registry.runs(archive_job(spec.name)):
            raise ArchiveNotFoundError(
                f"{spec.name} has no archive: `archive {spec.name}` starts one"
            )
        control = self._control()
        archives = ArchiveControl(control)
        run = archives.runs(spec.name)[-1]
        lag: ArchiveLag | None = archives.lag(run) if run.active else None
        catalog = control.endpoints.catalog
        return ArchiveStatus(
            run, control.endpoints.job_url(run.flink_job_id), lag,
            committed_rows(catalog, run.table), archive_coverage(catalog, run.table),
        )  # fmt: skip
