"""Start, stop, resume and reconcile runs of job versions on the session cluster.

A run is one version reading the log into one Iceberg table under one consumer group.
The registry remembers it; Flink's REST API says what it is doing now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kappanb.core.positions import ReadRange
from kappanb.core.schema import parse_duration_ms
from kappanb.exceptions import (
    FlinkRestError,
    FlinkSubmitError,
    JobDefinitionError,
    SavepointError,
)
from kappanb.flink.job_archive import ArchivedJob, parse_archive
from kappanb.flink.rest import TERMINAL_REFUSAL, FlinkRest
from kappanb.flink.sql import DEFAULT_JOB_CONFIG, FlinkSqlClient, is_insert
from kappanb.kafka.clock import clock_topic
from kappanb.kafka.topics import create_topic
from kappanb.registry.base import Registry, now, time_text
from kappanb.registry.kinds import RunMode, flink_job_state
from kappanb.registry.records import ACTIVE_STATES, JobVersion, RunRecord, TopicSpec
from kappanb.settings import IDLE_TIMEOUT
from kappanb.stack.checkpoints import as_dir_uri, join
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.catalog import drop_table, init_catalog
from kappanb.tables.maintenance import V2_SINK, MaintenancePolicy, table_maintained
from kappanb.versions import archive_source, chain_source, ddl, malformed
from kappanb.versions.archive_source import Handoff
from kappanb.versions.planner import split_cell
from kappanb.versions.python_job import run_cell


@dataclass(frozen=True)
class RunPlan:
    """Everything needed to submit a run: the version, its sources, where it reads and writes."""

    job_version: JobVersion
    topics: Sequence[TopicSpec]
    mode: RunMode
    rng: ReadRange
    table: str
    group_id: str
    parallelism: int = 1
    run_id: int = 0
    """The registry's id of the run, written into its dead-letter records."""
    handoffs: Mapping[str, Handoff] = field(default_factory=dict)
    """A replay from the archive: per topic, its archive snapshot and handoff offsets."""
    older: Mapping[str, TopicSpec] = field(default_factory=dict)
    """Per topic that follows an older version, that version, read first up to the cut
    (`kappanb.runs.chain_reads`)."""

    @property
    def pipeline_name(self) -> str:
        """Flink's job name: with the run number, so a version's runs (a replay, then a
        restart) can be told apart in Flink's web UI."""
        v = self.job_version
        return f"kappanb {v.job} v{v.version} {self.mode} run #{self.run_id} -> {self.table}"


def group_id_for(job_version: JobVersion, mode: RunMode) -> str:
    """Live runs own ``kappanb.JOB.vN``; every replay gets a fresh group."""
    base = f"kappanb.{job_version.job}.v{job_version.version}"
    if mode == "live":
        return base
    return f"{base}.replay-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"


class RunLauncher:
    """Submits runs and controls them through the Flink REST API."""

    def __init__(
        self,
        endpoints: Endpoints,
        registry: Registry,
        checkpoints_dir: str | Path,
        savepoints_dir: str | Path,
        checkpoint_interval: str,
        watermark_idle_timeout: str = IDLE_TIMEOUT,
        job_archive: str | None = None,
        maintenance: MaintenancePolicy | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.maintenance = maintenance
        """How the output tables of unbounded runs are maintained; None: not at all."""
        self.job_archive = job_archive
        self.registry = registry
        self.rest = FlinkRest(endpoints.flink_rest_url)
        self.checkpoints_dir = as_dir_uri(checkpoints_dir)
        self.savepoints_dir = as_dir_uri(savepoints_dir)
        self.config = {
            **DEFAULT_JOB_CONFIG,
            # The stack's own: state backend, checkpoint storage, the profile's properties.
            **endpoints.job_config,
            "execution.checkpointing.interval": checkpoint_interval,
            # A partition that gives no record for this long stops holding the watermark
            # (docs/reliability.md, "Watermarks"; the rest is the topic's clock).
            "table.exec.source.idle-timeout": watermark_idle_timeout,
        }
        self.checkpoint_interval_ms = parse_duration_ms(checkpoint_interval)

    def statements(self, plan: RunPlan, create_table: bool) -> list[str]:
        """The run's SQL: sources, the cell's setup, the output table, the INSERT, and one
        INSERT per dead-letter topic (the same for a live run and a replay)."""
        catalog = self.endpoints.catalog.name
        parts = split_cell(plan.job_version.text, plan.job_version.job)
        sink = [self._sink_ddl(plan)] if create_table else []
        return [
            *self._sources(plan),
            *(s.text for s in parts.setup),
            *sink,
            ddl.insert_sql(catalog, plan.table, parts.query.text, bounded=plan.rng.bounded),
            *self._dead_letters(plan),
        ]

    def _sink_ddl(self, plan: RunPlan) -> str:
        """The output table, with the maintenance properties when the run maintains it."""
        catalog, policy = self.endpoints.catalog.name, self.maintains(plan)
        properties = None if policy is None else policy.table_properties()
        return ddl.sink_ddl(catalog, plan.table, plan.job_version, properties)

    def maintains(self, plan: RunPlan) -> MaintenancePolicy | None:
        """The policy a new table of ``plan`` is maintained by: unbounded runs only (live
        runs and replays that go on live); a bounded replay's table is finished when it
        ends (`compact` it on demand), and its one writer (`ddl.ONE_WRITER`) is the v1
        sink's fix."""
        return None if plan.rng.bounded else self.maintenance

    def sink_config(self, plan: RunPlan, create: bool) -> dict[str, str]:
        """The sink-v2 setting when the run's table is (to be) maintained. A resumed run
        asks the table, not today's policy: its checkpoint holds the state of the sink the
        table was created for, and only the same job graph restores it."""
        if create:
            maintained = self.maintains(plan) is not None
        else:
            maintained = table_maintained(self.endpoints.catalog, plan.table)
        return {V2_SINK: "true"} if maintained else {}

    def _sources(self, plan: RunPlan) -> list[str]:
        kafka, catalog = self.endpoints.kafka, self.endpoints.catalog
        if plan.rng.from_archive:
            return [
                s for t in plan.topics for s in archive_source.source_statements(
                    t, kafka, plan.group_id, plan.handoffs[t.name], plan.rng.until,
                    catalog.name, catalog.flink_properties(),
                )
            ]  # fmt: skip
        return [
            s for t in plan.topics for s in (
                chain_source.source_statements(
                    plan.older[t.name], t, kafka, plan.group_id, plan.rng
                ) if t.name in plan.older
                else ddl.source_statements(t, kafka, plan.group_id, plan.rng)
            )
        ]  # fmt: skip

    def _dead_letters(self, plan: RunPlan) -> list[str]:
        """The DLQ table and INSERT of each source topic that routes malformed events."""
        v = plan.job_version
        run = malformed.RunIdentity(v.job, v.version, plan.run_id, plan.mode)
        kafka = self.endpoints.kafka
        older = [
            statement
            for newer, topic in plan.older.items()
            for statement in chain_source.dead_letter_statements(
                topic, next(t for t in plan.topics if t.name == newer), kafka, run
            )
        ]
        return [
            statement
            for t in plan.topics
            if malformed.routes(t)
            for statement in (malformed.dlq_sink_ddl(t, kafka), malformed.dlq_insert(t, run))
        ] + older

    def _python_build(self, plan: RunPlan, create_table: bool) -> Callable[[Any, Any], None]:
        catalog = self.endpoints.catalog.name

        def build(tenv: Any, statement_set: Any) -> None:
            for statement in self._sources(plan):
                tenv.execute_sql(statement)
            if create_table:
                tenv.execute_sql(self._sink_ddl(plan))
            result = run_cell(tenv, plan.job_version.text, plan.job_version.job)
            statement_set.add_insert(ddl.qualified_table(catalog, plan.table), result)
            for statement in self._dead_letters(plan):
                if is_insert(statement):
                    statement_set.add_insert_sql(statement)
                else:
                    tenv.execute_sql(statement)

        return build

    def submit(self, plan: RunPlan, restore: str | None = None) -> tuple[str, str]:
        """Submit the run; return (Flink job id, web UI link). Creates the table unless restoring.

        When the submission fails, a table it created is dropped again.
        """
        self.ensure_dead_letter_topics([*plan.older.values(), *plan.topics])
        client, create = FlinkSqlClient(self.endpoints), restore is None
        config = {**self.job_config(plan.parallelism, restore), **self.sink_config(plan, create)}
        if plan.rng.from_archive:
            config.update(archive_source.FLIP27_SOURCE)
        with self.creating(plan.table, create):
            if plan.job_version.kind == "python":
                build = self._python_build(plan, create)
                job = client.submit_with(build, job_name=plan.pipeline_name, config=config)
            else:
                statements = self.statements(plan, create_table=create)
                job = client.submit(statements, job_name=plan.pipeline_name, config=config)
        return job.job_id, job.web_url

    def submit_statements(
        self, statements: Sequence[str], *, job_name: str, table: str,
        restore: str | None = None,
    ) -> tuple[str, str]:  # fmt: skip
        """Submit a job kappanb wrote the SQL of (an archive) with a run's settings, at
        parallelism 1; the same (job id, link) and the same undo as `submit`."""
        config = self.job_config(1, restore)
        with self.creating(table, restore is None):
            job = FlinkSqlClient(self.endpoints).submit(
                list(statements), job_name=job_name, config=config
            )
        return job.job_id, job.web_url

    def job_config(self, parallelism: int, restore: str | None) -> dict[str, str]:
        """A run's Flink settings; ``restore``: the savepoint or checkpoint it starts from."""
        config = {**self.config, "parallelism.default": str(parallelism)}
        if restore:
            config["execution.state-recovery.path"] = restore
        return config

    @contextmanager
    def creating(self, table: str, create: bool) -> Iterator[None]:
        """Around a submission that creates ``table`` (``create``): the catalog is made
        usable first (a cluster's may not have the namespace yet), and the table is dropped
        again when Flink refuses the job."""
        if create:
            init_catalog(self.endpoints.catalog)
        try:
            yield
        except (FlinkSubmitError, JobDefinitionError):
            if create:
                drop_table(self.endpoints.catalog, table)
            raise

    def ensure_dead_letter_topics(self, topics: Sequence[TopicSpec]) -> None:
        """Create the DLQ topics a run writes to and the clocks it reads, if missing
        (topics declared before they existed)."""
        for topic in topics:
            if malformed.routes(topic) and topic.dlq_topic:
                create_topic(self.endpoints.kafka, topic.dlq_topic, partitions=1)
            if ddl.clocked(topic):
                create_topic(self.endpoints.kafka, clock_topic(topic.name), partitions=1)

    # ---- control -------------------------------------------------------------------
    def stop(self, run: RunRecord, savepoint: bool) -> RunRecord:
        location = None
        try:
            if savepoint:
                target = join(self.savepoints_dir, f"{run.job}-v{run.version}-run{run.id}")
                location = self.rest.stop_with_savepoint(run.flink_job_id, target)
            else:
                self.rest.cancel(run.flink_job_id)
                self.rest.wait_for_state(run.flink_job_id, timeout=60)
        except FlinkRestError as exc:
            ended = self._ended_meanwhile(run, said_ended=TERMINAL_REFUSAL in str(exc))
            if ended is not None:
                return ended  # it finished (or failed) between our look and the cancel
            message = f"could not stop run #{run.id} ({run.flink_job_id}): {exc}"
            raise SavepointError(message) from None
        return self.registry.update_run(
            run.id, state="STOPPED", ended_at=now(), savepoint=location or run.savepoint
        )

    def _ended_meanwhile(self, run: RunRecord, said_ended: bool = False) -> RunRecord | None:
        """The run as Flink ended it by itself, if it did; None while it still runs.

        ``said_ended``: Flink refused the stop because the job had already ended. Its REST
        job details are cached (for seconds) and may still say RUNNING: wait for them."""
        try:
            if said_ended:
                self.rest.wait_for_state(run.flink_job_id, timeout=60)
            job = self.rest.find_job(run.flink_job_id)
        except FlinkRestError:
            return None
        if job is None or str(job["state"]) in ACTIVE_STATES:
            return None
        return self.reconcile(run)

    def restore_point(self, run: RunRecord) -> str:
        """The newest savepoint or retained checkpoint to resume ``run`` from."""
        checkpoint = self.latest_checkpoint(run.flink_job_id)
        stopped_with_savepoint = run.savepoint and run.state in ("STOPPED", "SUSPENDED")
        point = run.savepoint if stopped_with_savepoint else checkpoint or run.savepoint
        point = point or run.restored_from
        if not point:
            raise SavepointError(
                f"run #{run.id} of {run.job} v{run.version} has no savepoint or retained "
                "checkpoint to resume from; start it again with `run --restart` "
                "(or `replay --restart`)"
            )
        return point

    def latest_checkpoint(self, flink_job_id: str) -> str | None:
        """The job's newest retained checkpoint, listed where Flink writes them (file:// or
        s3://): it outlives the job and the cluster, unlike Flink's REST API's answer."""
        return self.endpoints.state.latest_checkpoint(self.checkpoints_dir, flink_job_id)

    def reconciled(self, job: str | None, version: int | None = None) -> list[RunRecord]:
        """The registry's runs (of a job, of a version), each reconciled with Flink."""
        return [self.reconcile(r) for r in self.registry.runs(job, version)]

    def _archived(self, flink_job_id: str) -> ArchivedJob | None:
        """How the job ended, from the JobManager's archive (None: not archived)."""
        if self.job_archive is None:
            return None
        content = self.endpoints.state.read_small_file(join(self.job_archive, flink_job_id))
        return None if content is None else parse_archive(content, flink_job_id)

    def _ended_before_restart(self, run: RunRecord, ended: ArchivedJob) -> RunRecord:
        """A run whose job ended before the JobManager restarted: its archived ending."""
        state = flink_job_state(ended.state)
        when = ended.end_time_ms
        changes: dict[str, Any] = {
            "state": state,
            "ended_at": now() if when is None else time_text(when),
        }
        if state == "FAILED":
            cause = self.endpoints.redact(ended.root_exception)
            changes["error"] = malformed.fail_fast_hint(cause, self._topics_of(run))
        return self.registry.update_run(run.id, if_flink_job=run.flink_job_id, **changes)

    def _topics_of(self, run: RunRecord) -> list[TopicSpec]:
        job_versions = [v for v in self.registry.versions(run.job) if v.version == run.version]
        sources = set(job_versions[0].sources) if job_versions else set()
        return [t for t in self.registry.topics() if t.name in sources]

    def reconcile(self, run: RunRecord) -> RunRecord:
        """Bring the registry's state of an active run in line with Flink's."""
        if not run.active:
            return run
        try:
            job = self.rest.find_job(run.flink_job_id)
        except FlinkRestError:
            return run  # cluster unreachable: keep what we know, say so in status
        if job is None and (ended := self._archived(run.flink_job_id)) is not None:
            return self._ended_before_restart(run, ended)
        if job is None:
            return self.registry.update_run(
                run.id,
                if_flink_job=run.flink_job_id,
                state="LOST",
                error="the Flink cluster no longer knows this job "
                "(it was restarted); `resume` continues from the last checkpoint",
            )
        state = flink_job_state(str(job["state"]))
        if state == run.state:
            return run
        changes: dict[str, Any] = {"state": state}
        if state not in ACTIVE_STATES:
            changes["ended_at"] = now()
        if state == "FAILED":  # the registry keeps no secret, even one a cause would show
            cause = self.endpoints.redact(self.rest.root_exception(run.flink_job_id))
            changes["error"] = malformed.fail_fast_hint(cause, self._topics_of(run))
        return self.registry.update_run(run.id, if_flink_job=run.flink_job_id, **changes)
