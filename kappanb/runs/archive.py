"""A topic's archive: a Flink job kappanb manages that mirrors every record of the topic,
from its earliest offset, unbounded, into ``archive__<table>`` (`kappanb.versions.archive_ddl`).

Exactly once as a run is: the Kafka source's offsets live in Flink's checkpoints and the
Iceberg sink commits on each checkpoint. The archive is recorded as a run of mode
``archive`` (job ``archive.<topic>``, version 0), so `status` shows it with its figures,
`down` suspends it with a savepoint and `up` resumes it like any run. Every check comes
before the first side effect; a submission that fails leaves no table and no record.
"""

from __future__ import annotations

from dataclasses import dataclass

from kappanb.exceptions import (
    ArchiveNotFoundError,
    ArchiveRunningError,
    RunConflictError,
    SavepointError,
    UnknownTopicError,
)
from kappanb.history.archive_report import ArchiveLag, ArchiveResult
from kappanb.kafka.topics import topic_exists
from kappanb.monitor.sample import sample_run
from kappanb.registry.base import Registry, now
from kappanb.registry.records import RunRecord, TopicSpec
from kappanb.runs.control import RunControl
from kappanb.tables.catalog import drop_table, table_has_data
from kappanb.versions import definitions
from kappanb.versions.archive_ddl import (
    archive_group,
    archive_job,
    archive_lock,
    archive_statements,
    archive_table,
    check_archivable,
)

ARCHIVE_VERSION = 0
"""The version of an archive's run records: job versions start at 1."""


def is_archive(run: RunRecord) -> bool:
    return run.mode == "archive"


def archived_topic(run: RunRecord) -> str:
    """The topic an archive run mirrors (its job is ``archive.<topic>``)."""
    return run.job.removeprefix("archive.")


def lock_of(run: RunRecord) -> str:
    """The lock a command on ``run`` holds: its job's, or its archive's."""
    return archive_lock(archived_topic(run)) if is_archive(run) else run.job


def run_sources(registry: Registry, run: RunRecord) -> tuple[str, ...]:
    """The topics a run reads: an archive's topic, or its job version's sources."""
    if is_archive(run):
        return (archived_topic(run),)
    return definitions.find_version(registry, run.job, run.version).sources


def status_scope(registry: Registry, name: str) -> str:
    """Whose runs `status NAME` shows: the job NAME, else the archive of topic NAME."""
    if registry.versions(name):
        return name
    try:
        return archive_job(definitions.find_topic(registry, name).name)
    except UnknownTopicError:
        definitions.find_version(registry, name, None)  # raises: neither a job nor a topic
        raise


@dataclass
class ArchiveControl:
    """Archives of one home against its running stack, through a `RunControl`."""

    control: RunControl

    def runs(self, topic: str) -> list[RunRecord]:
        """The topic's archive runs, reconciled with Flink, oldest first."""
        return self.control.launcher.reconciled(archive_job(topic))

    def start(self, topic: TopicSpec) -> ArchiveResult:
        """Start the topic's archive, or go on with the one that ended (into its table, from
        its savepoint or latest checkpoint); refused while one runs."""
        check_archivable(topic)
        mine = self.runs(topic.name)
        active = [r for r in mine if r.active]
        if active:
            run = active[-1]
            raise ArchiveRunningError(
                f"an archive of {topic.name} is already running (run #{run.id}, Flink job "
                f"{run.flink_job_id}, into {run.table}); `status {topic.name}` shows how far "
                "behind the head it is"
            )
        if not topic_exists(self.control.endpoints.kafka, topic.name):
            raise UnknownTopicError(
                f"topic {topic.name} is declared but Kafka has no such topic (deleted since?): "
                f"create it first, e.g. by declaring it (again) with `topic {topic.name} "
                "--schema ...`; nothing was archived"
            )
        self.control.check_slots(1, f"archive {topic.name}")
        if mine:
            return self.go_on(topic, mine[-1])
        return self._start_new(topic)

    def _start_new(self, topic: TopicSpec) -> ArchiveResult:
        table, catalog = archive_table(topic), self.control.endpoints.catalog
        if table_has_data(catalog, table):
            raise RunConflictError(
                f"table {table} already holds rows, and no archive of {topic.name} is "
                "recorded in this home: kappanb leaves it alone. Drop it to archive afresh"
            )
        drop_table(catalog, table)  # an empty leftover
        reserved = self.control.registry.add_run(RunRecord(
            id=0, job=archive_job(topic.name), version=ARCHIVE_VERSION, mode="archive",
            table=table, group_id=archive_group(topic), start="earliest", until=None,
            flink_job_id="", state="SUBMITTING", started_at=now(),
        ))  # fmt: skip
        return self._submit(topic, reserved, None, f"archiving {topic.name} into {table}")

    def go_on(self, topic: TopicSpec, last: RunRecord) -> ArchiveResult:
        """Resume an archive that ended, exactly where its snapshot left it."""
        launcher = self.control.launcher
        try:
            point = launcher.restore_point(last)
        except SavepointError:
            if table_has_data(self.control.endpoints.catalog, last.table):
                raise RunConflictError(
                    f"the archive of {topic.name} (run #{last.id}, {last.state}) has no "
                    f"savepoint or checkpoint to go on from, and its table {last.table} "
                    "holds rows: a new archive would duplicate them. Drop the table to "
                    "archive afresh"
                ) from None
            return self._start_new(topic)
        message = f"the archive of {topic.name} goes on from {point}"
        return self._submit(topic, last, point, message)

    def _submit(
        self, topic: TopicSpec, record: RunRecord, restore: str | None, message: str
    ) -> ArchiveResult:
        control, create = self.control, restore is None
        endpoints, launcher = control.endpoints, control.launcher
        statements = archive_statements(topic, endpoints.kafka, endpoints.catalog.name, create)
        name = f"kappanb archive of {topic.name} run #{record.id} -> {record.table}"
        try:
            job_id, url = launcher.submit_statements(
                statements, job_name=name, table=record.table, restore=restore
            )
        except BaseException:
            if create:  # nothing half-made: no record, no table without a job
                control.registry.delete_run(record.id)
                drop_table(endpoints.catalog, record.table)
            raise
        try:
            updated = control.registry.update_run(
                record.id, flink_job_id=job_id, state="RUNNING", ended_at=None, error=None,
                restored_from=restore, savepoint=None,
            )  # fmt: skip
        except BaseException:
            launcher.rest.cancel(job_id)  # no job kappanb does not know about
            raise
        return ArchiveResult(updated, url, message)

    def stop(self, topic: str) -> ArchiveResult:
        """Stop the running archive with a savepoint: `archive TOPIC` goes on from it."""
        mine = self.runs(topic)
        active = [r for r in mine if r.active]
        if not active:
            states = ", ".join(f"#{r.id} {r.state}" for r in mine) or "never started"
            raise ArchiveNotFoundError(f"no archive of {topic} is running ({states})")
        stopped = self.control.launcher.stop(active[-1], savepoint=True)
        url = self.control.endpoints.job_url(stopped.flink_job_id)
        message = f"stopped the archive of {topic}; `archive {topic}` goes on from its savepoint"
        return ArchiveResult(stopped, url, message)

    def lag(self, run: RunRecord) -> ArchiveLag:
        """How far behind the head of the log an active archive is, per partition."""
        endpoints, topic = self.control.endpoints, archived_topic(run)
        sample = sample_run(
            self.control.launcher.rest, endpoints.kafka, run.flink_job_id, run.group_id, [topic]
        )
        behind = {p: n for (_t, p), n in sample.behind().items()}
        return ArchiveLag(topic, behind)


def archive_lags(control: RunControl, runs: list[RunRecord]) -> dict[int, ArchiveLag]:
    """Per active archive run id, how far behind the head it is; a run Flink or Kafka could
    not say is left out (its row shows what Flink reports)."""
    archives, found = ArchiveControl(control), {}
    for run in runs:
        if is_archive(run) and run.active and run.flink_job_id:
            try:
                found[run.id] = archives.lag(run)
            except Exception:
                continue
    return found
