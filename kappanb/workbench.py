"""The Python API of kappanb: everything the `%kappa` magics and the CLI do, as methods.

Knows nothing of IPython. Every method returns a value with a text and an HTML form.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from kappanb.core.positions import ReadRange, read_range
from kappanb.core.schema import parse_duration_ms
from kappanb.exceptions import (
    KappaError,
    ProduceError,
    ProfileNotReadyError,
    SchemaError,
    StackNotRunningError,
)
from kappanb.flink.rest import FlinkRest
from kappanb.flink.sql import FlinkSqlClient, close_gateway
from kappanb.history.forget_commands import ForgetCommands
from kappanb.history.past_cut import followers_in_scope, records_past_cut
from kappanb.history.retention_report import RetentionReport
from kappanb.kafka.clock import clock_topic
from kappanb.kafka.produce import ProduceResult, produce_json
from kappanb.kafka.topics import create_topic, describe_topic, set_retention
from kappanb.monitor.polled import PolledCatchUp
from kappanb.monitor.verdicts import CaughtUpVerdicts
from kappanb.monitor.watch_set import WatchSet
from kappanb.monitor.watcher import stop_all
from kappanb.registry.kinds import RunMode
from kappanb.registry.open import open_registry
from kappanb.registry.records import JobVersion, RunRecord, TopicSpec
from kappanb.runs import lifecycle, runs
from kappanb.runs.archive import archive_lags, is_archive, run_sources, status_scope
from kappanb.runs.archive_commands import ArchiveCommands
from kappanb.runs.chain_reads import older_sides
from kappanb.runs.control import RunControl, checked_start
from kappanb.runs.overview import Overview, build_overview
from kappanb.runs.placement import taskmanager_of
from kappanb.runs.report import JobList, RunHandle, StatusReport
from kappanb.runs.retention import retention_report
from kappanb.runs.run_holds import run_holds
from kappanb.runs.run_metrics import run_statuses
from kappanb.serving.commands import ServingCommands
from kappanb.serving.serving import (
    Serving,
)
from kappanb.serving.view_repair import mend_views
from kappanb.settings import StackSettings, idle_timeout_for
from kappanb.stack.base import Stack
from kappanb.stack.chosen import stack_for
from kappanb.stack.embedded import EmbeddedStack
from kappanb.stack.endpoints import Endpoints
from kappanb.stack.health import StackHealth, command
from kappanb.stack.status import DownResult, ServiceStatus, StackStatus, UpResult
from kappanb.versions import ddl, definitions, following
from kappanb.versions.result import VersionResult

Say = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


class Workbench(ServingCommands, ArchiveCommands, ForgetCommands):
    """Topics, jobs, versions and runs of one kappanb home, on the stack it is given.

    ``stack``: any `Stack` (an existing cluster, a test's fake); else the embedded stack of
    ``settings``; else the stack of ``profile`` (default: ``$KAPPANB_PROFILE``, the profile
    file's default, or the embedded stack; `kappanb.profiles.load`)."""

    def __init__(
        self, settings: StackSettings | None = None, *, stack: Stack | None = None,
        profile: str | None = None, auto_up: bool = True, say: Say = _quiet,
    ) -> None:  # fmt: skip
        if sum(x is not None for x in (settings, stack, profile)) > 1:
            raise TypeError("give a Workbench one of settings, stack or profile")
        if stack is None:
            stack = EmbeddedStack(settings) if settings is not None else stack_for(profile)
        self.stack: Stack = stack
        self._health = StackHealth(self.stack)
        places = self.stack.places
        self.registry = open_registry(places.registry_db, places.registry_log)
        self.auto_up, self.say = auto_up, say
        self._client: FlinkSqlClient | None = None
        self._polled = PolledCatchUp()  # what `overview` remembers between polls
        # The caught-up verdicts of this home's watches, which `overview` (the panel) takes.
        self._verdicts = CaughtUpVerdicts(self.stack.places.home / "watch" / "caught-up")

    @property
    def settings(self) -> StackSettings:
        return self.stack.settings

    # ---- the stack -------------------------------------------------------------------
    @command
    def up(self, task_slots: int | None = None) -> UpResult:
        """Start what is not running; then resume the runs `down` suspended or a crash lost,
        and `sweep` the retired tables whose grace period has passed (a user runs `up` at
        the start of each session anyway; with nothing due it costs one registry read)."""
        if task_slots is not None:
            self.stack = self._health.stack = self.stack.with_task_slots(task_slots)
        result = self.stack.up(self.say)
        self._health.remember(result.status)
        if not result.status.healthy:
            return result
        if self.registry.runs(None):
            carried = lifecycle.resume_all(self._control(), self.say)
            result = replace(result, runs=carried.lines())
        return replace(result, removals=self._sweep_after_up(), views=self._mend_views())

    def _sweep_after_up(self) -> list[str]:
        """The sweep's lines; a sweep that fails does not fail `up`: it says so."""
        try:
            return self.sweep().lines() if self.registry.due_removals() else []
        except KappaError as exc:
            return [f"the sweep of retired tables failed ({exc}); `sweep` tries again"]

    def _mend_views(self) -> list[str]:
        """Serving views that disagree with the registry, pointed at what it serves."""
        try:
            return mend_views(self.registry, self.stack.endpoints().catalog)
        except Exception as exc:  # a repair that fails must not fail `up`: it says so
            return [f"the serving views could not be checked ({exc}); the next `up` tries again"]

    @command
    def down(self) -> DownResult:
        """Suspend the active runs with savepoints (`up` resumes them), then stop the stack.

        This process's watches stop sampling first: none of their Kafka clients is left
        retrying a broker that is gone (the runs they watched are suspended anyway)."""
        stop_all()
        lines: list[str] = []
        if self._health.status().healthy and self.registry.runs(None):
            lines = lifecycle.suspend_all(self._control(), self.say).lines()
        result = replace(self.stack.down(self.say), runs=lines)
        close_gateway()  # this process's PyFlink gateway JVM, if kappanb launched one
        return result

    @command
    def stack_status(self) -> StackStatus:
        return self._health.status()

    def overview(self) -> Overview:
        """The stack, each job's versions with their newest run (state, records behind,
        caught up), the served version: one pass, for a panel that polls. Never starts the
        stack; what cannot be found out is said in ``problems``."""
        return build_overview(
            self.registry, self.stack, self._launcher, self._polled, self._verdicts
        )

    @command
    def endpoints(self) -> Endpoints:
        """The stack's endpoints, once it is healthy (checked once per command); starts it
        the first time when nothing runs and auto_up is on."""
        status = self._health.status()
        if not status.healthy and not status.managed:
            down = ", ".join(s.name for s in status.services if not s.healthy)
            raise StackNotRunningError(
                f"the cluster of profile {self.stack.profile} is not healthy ({down}): "
                "`status` says what each service answered"
            )
        if not status.healthy:
            nothing_runs = not status.running
            if self.auto_up and nothing_runs:
                self.auto_up = False
                self.say("the stack is not running: starting it (as `%kappa up` would)")
                self._health.remember(self.stack.up(self.say).status)
            else:
                down = ", ".join(s.name for s in status.services if not s.healthy)
                what = "not running" if nothing_runs else f"not healthy ({down})"
                raise StackNotRunningError(
                    f"the stack is {what}: start it with `%kappa up` (or `kappanb up` in a shell)"
                )
        return self.stack.endpoints()

    def _running_endpoints(self) -> Endpoints | None:
        """The endpoints if the stack is healthy now, else None (never starts it)."""
        return self.stack.endpoints() if self._health.status().healthy else None

    def _sql(self, endpoints: Endpoints) -> FlinkSqlClient:
        if self._client is None:
            self._client = FlinkSqlClient(endpoints)
        return self._client

    def _launcher(self, endpoints: Endpoints) -> runs.RunLauncher:
        places = self.stack.places
        return runs.RunLauncher(
            endpoints, self.registry, places.checkpoints, places.savepoints,
            self.settings.checkpoint_interval,
            idle_timeout_for(self.settings),
            job_archive=places.job_archive, maintenance=self.settings.table_maintenance,
        )  # fmt: skip

    # ---- topics and events -----------------------------------------------------------
    @command
    def topic(self, /, name: str, schema: str, **options: Any) -> TopicSpec:
        """Declare a topic (schema, event time, watermark); create it in Kafka if missing.

        ``on_malformed="dlq"`` (default) sends events that do not decode to the dead-letter
        topic ``dlq`` (default ``NAME.dlq``, created too) and counts them per run;
        ``on_malformed="fail"`` fails the run instead (docs/reliability.md).
        ``retention="7d"`` sets the topic's ``retention.ms``: Kafka deletes older records
        (`retention` reports what is left); without it a new topic keeps every record.
        ``follows="rides.trips.v1"`` with ``mapping={"col": "EXPR"}`` makes this topic the
        newer version of that one: runs read the older topic up to where it ends now (it
        is sealed), through the mapping, then this one (`kappanb.versions.chain`)."""
        from kappanb.generators import PAYMENTS_SCHEMA

        spec = definitions.topic_spec(
            name, PAYMENTS_SCHEMA if schema == "payments" else schema, **options
        )
        topics = self.registry.topics()
        older = following.checked_chain(spec, topics)
        spec = following.with_known_cut(spec, topics)
        definitions.check_redeclaration(self.registry, spec)
        endpoints = self.endpoints()
        if older is not None:  # sealing reads the older topic's ends: before any creation
            spec = following.sealed(spec, older, endpoints)
            following.check_planned(self._sql(endpoints), endpoints, older, spec)
        if (follower := following.replanned_follower(spec, topics)) is not None:
            following.check_planned(self._sql(endpoints), endpoints, spec, follower)
        kafka = endpoints.kafka
        created = create_topic(kafka, name, partitions=spec.partitions, compact=spec.compact,
                               retention_ms=spec.retention_ms)  # fmt: skip
        if not created:
            info = describe_topic(kafka, name)
            actual = info.partitions
            if ("compact" in info.config.get("cleanup.policy", "")) != spec.compact:
                policy = info.config.get("cleanup.policy", "?")
                raise SchemaError(
                    f"topic {name} already exists in Kafka with cleanup.policy={policy}, "
                    f"which does not match {'--compact' if spec.compact else 'no --compact'}"
                )
            if actual != spec.partitions:
                self.say(f"topic {name} already exists with {actual} partition(s); kept as is")
                spec = replace(spec, partitions=actual)
            known = next((t for t in self.registry.topics() if t.name == name), None)
            if spec.retention_ms is not None:
                set_retention(kafka, name, spec.retention_ms)
            elif known is not None:  # not given again: the declared retention stands
                spec = replace(spec, retention_ms=known.retention_ms)
        if spec.dlq_topic:
            create_topic(kafka, spec.dlq_topic, partitions=1)
        if ddl.clocked(spec):
            create_topic(kafka, clock_topic(spec.name), partitions=1)
        return self.registry.put_topic(spec)

    def topics(self) -> list[TopicSpec]:
        return self.registry.topics()

    @command
    def retention(self, topic: str, *, window: str = "1 h") -> RetentionReport:
        """Per partition, the first record the log still has (offset, timestamp), the head,
        whether a full replay is possible, what an archive holds; and the headroom: the
        measured replay throughput of the topic's jobs against its growth over ``window``,
        with the ETA of a full replay."""
        spec = definitions.find_topic(self.registry, topic)
        window_ms = parse_duration_ms(window)
        if window_ms <= 0:
            raise SchemaError(f"--window {window!r}: the growth is measured over a time above 0")
        endpoints = self.endpoints()
        rest = self._launcher(endpoints).rest
        return retention_report(
            self.registry, rest, endpoints.kafka, spec, window_ms, catalog=endpoints.catalog
        )

    @command
    def produce(self, topic: str, events: Any, *, rate: float | None = None) -> ProduceResult:
        """Send a polars/pandas frame, a list of dicts or a generator's events to a topic."""
        from kappanb.kafka.records import to_records

        spec = definitions.find_topic(self.registry, topic)
        following.check_not_sealed(self.registry.topics(), spec.name)
        records: Iterable[dict[str, Any]] = to_records(events)
        if not isinstance(events, Iterator):  # a collection: check it all before sending any
            records = list(records)
            missing = next((i for i, r in enumerate(records) if spec.key and spec.key not in r), -1)
            if missing >= 0:
                raise ProduceError(
                    f"event {missing} has no {spec.key!r}, the key of {spec.name}; nothing sent"
                )
        return produce_json(self.endpoints().kafka, spec.name, records, key=spec.key, rate=rate)

    # ---- jobs and versions -----------------------------------------------------------
    @command
    def job(
        self, name: str, text: str, *, note: str = "", key: Sequence[str] | None = None,
        python: bool = False,
    ) -> VersionResult:  # fmt: skip
        """Plan the SQL (or PyFlink code) with Flink; record a new version unless unchanged."""
        parse = definitions.running_flink_parser(self._running_endpoints, self._sql)
        definitions.check_definition(self.registry, name, text, key=key, python=python,
                                     parse=parse)  # fmt: skip
        endpoints = self.endpoints()
        draft = definitions.plan_version(
            self._sql(endpoints), endpoints, self.registry, name, text, note=note, key=key,
            python=python,
        )  # fmt: skip
        return VersionResult(*self.registry.add_version(draft))

    def jobs(self) -> JobList:
        job_versions = self.registry.versions()
        serving = {job: s.to_version for job in {v.job for v in job_versions}
                   if (s := self.registry.serving(job)) is not None}  # fmt: skip
        return JobList(job_versions, self.registry.runs(), serving)

    def show(self, name: str, version: int | None = None) -> JobVersion:
        return definitions.find_version(self.registry, name, version)

    # ---- runs ------------------------------------------------------------------------
    @command
    def run(
        self, name: str, version: int | None = None, *, restart: bool = False,
        new_table: bool = False, parallelism: int = 1, watch: bool = True,
    ) -> RunHandle:  # fmt: skip
        """Start the version live: from offset 0, unbounded, into ``NAME__vN``.

        ``parallelism`` tasks per operator, each in a task slot of the cluster. With
        ``watch`` the handle samples the job's running versions in the background
        (``handle.caught_up``, ``handle.on_caught_up``, ``handle.watch`` for the panel)."""
        rng = ReadRange()
        return self._start(name, version, "live", rng, restart, new_table, parallelism, watch)

    @command
    def replay(
        self, name: str, version: int | None = None, *, start: str | None = None,
        until: str | None = None, restart: bool = False, new_table: bool = False,
        parallelism: int = 1, watch: bool = True,
    ) -> RunHandle:  # fmt: skip
        """Run the version beside the live one, with a fresh consumer group, from ``start``.

        ``start="earliest"`` (the default) needs the log from offset 0: a replay of a topic
        whose early records retention deleted is refused with the `retention` report;
        ``start="earliest-available"`` accepts the partial history; ``start="archive"``
        reads the topic's archive, then the log from where it ends (`archive` first). A
        bounded replay (``until``) ends by itself: ``handle.finished``, ``on_finished``."""
        rng = read_range(start, until)
        return self._start(name, version, "replay", rng, restart, new_table, parallelism, watch)

    def _control(self) -> RunControl:
        endpoints = self.endpoints()
        return RunControl(self.registry, self._launcher(endpoints), endpoints, self._verdicts)

    def _start(
        self, name: str, version: int | None, mode: RunMode, rng: ReadRange, restart: bool,
        new_table: bool, parallelism: int, watch: bool,
    ) -> RunHandle:  # fmt: skip
        job_version, topics = checked_start(self.registry, name, version, rng)  # before the stack
        control = self._control()
        command = f"{'run' if mode == 'live' else 'replay'} {name} {job_version.label}"
        with self.registry.job_lock(name, command):  # one notebook at a time per job
            handle = control.start(
                job_version, topics, mode, rng, restart=restart, new_table=new_table,
                parallelism=parallelism, watch=watch,
            )  # fmt: skip
            if mode == "live":
                Serving(control).serve_first_live_run(handle.run)
        return self._acting(handle)

    @command
    def stop(self, name: str, version: int, *, savepoint: bool = False) -> RunHandle:
        """Stop the version's running job, optionally taking a savepoint to resume from."""
        job_version = definitions.find_version(self.registry, name, version)
        control = self._control()
        with self.registry.job_lock(name, f"stop {name} v{version}"):
            return self._acting(control.stop(job_version, savepoint))

    @command
    def resume(self, name: str, version: int) -> RunHandle:
        """Continue the version's last run from its savepoint or latest retained checkpoint."""
        job_version = definitions.find_version(self.registry, name, version)
        control = self._control()
        with self.registry.job_lock(name, f"resume {name} v{version}"):
            return self._acting(control.resume_version(job_version))

    def _acting(self, handle: RunHandle) -> RunHandle:
        """The handle with its actions (``stop``, ``taskmanager``) bound to this workbench."""
        return replace(handle, stopper=functools.partial(self._stop_run, handle.run),
                       locator=functools.partial(self.taskmanager_of, handle.run))  # fmt: skip

    @command
    def taskmanager_of(self, run: RunRecord, timeout: float = 60.0) -> ServiceStatus:
        """The TaskManager process (with its pid) that runs ``run``'s tasks."""
        rest = FlinkRest(self.endpoints().flink_rest_url)
        return taskmanager_of(self.stack, rest, run, timeout)

    @command
    def _stop_run(self, run: RunRecord, savepoint: bool) -> RunHandle:
        control = self._control()
        with self.registry.job_lock(run.job, f"stop {run.job} v{run.version}"):
            return self._acting(control.stop_run(run, savepoint))

    @command
    def status(self, name: str | None = None) -> StatusReport:
        """Every run (of one job, or the archive of one topic), reconciled with Flink, with
        records and checkpoints; an active archive with how far behind the head it is; a
        warning for each sealed topic version with records past its cut, which no run
        reads (`kappanb.history.past_cut`)."""
        scope = status_scope(self.registry, name) if name is not None else None
        control = self._control()
        launcher, endpoints = control.launcher, control.endpoints
        rows = launcher.reconciled(scope)
        sources = {r.id: run_sources(self.registry, r) for r in rows if r.active}
        bounded = older_sides(self.registry, rows)  # a followed topic's older version
        reads = {i: tuple(dict.fromkeys([*(b.topic for b in bounded.get(i, ())), *s]))
                 for i, s in sources.items()}  # fmt: skip
        tallies = self.stack.places.dead_letter_tallies
        statuses = run_statuses(launcher.rest, rows, endpoints, reads, tallies, bounded)
        topics = {r.id: [definitions.find_topic(self.registry, t) for t in sources[r.id]]
                  for r in rows if r.active and not is_archive(r)}  # fmt: skip
        held = run_holds(launcher.rest, endpoints.kafka, rows, topics)
        lags = archive_lags(control, rows)
        sealing = followers_in_scope(self.registry.topics(), self.registry.versions(), name)
        return StatusReport([
            replace(s, held=held.get(s.run.id, ""), behind=lags.get(s.run.id))
            for s in statuses
        ], [str(p) for p in records_past_cut(endpoints.kafka, sealing)])  # fmt: skip

    @command
    def stack_and_runs(self, name: str | None = None) -> tuple[StackStatus, StatusReport | None]:
        """The stack's health and, when it is healthy, `status` (None when it is not, or
        when an existing cluster's runs are not kappanb's yet): one command, one check."""
        stack = self._health.status()
        if not stack.healthy:
            return stack, None
        try:
            return stack, self.status(name)
        except ProfileNotReadyError:  # an existing cluster: services checked, runs not yet
            return stack, None

    @command
    def watch(
        self, name: str, versions: Sequence[int] = (), *, interval: float = 1.0,
        threshold: int = 1000,
    ) -> WatchSet:  # fmt: skip
        """Sample the job's active runs (or those of ``versions``) in the background."""
        latest = definitions.find_version(self.registry, name, None)  # unknown job: say so
        known = [latest, *(definitions.find_version(self.registry, name, v) for v in versions)]
        return self._control().watch_set(
            name, versions, interval=interval, threshold=threshold, known=known
        )

    def runs(self, name: str | None = None) -> list[RunRecord]:
        return self.registry.runs(name)
