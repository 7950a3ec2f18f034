"""Starting, stopping, resuming and watching runs: the steps behind `Workbench`'s run methods.

`checked_start` does every check that needs no stack, so that a wrong command fails
before anything starts; `RunControl` does the rest against a running stack. Every
check comes before the first side effect (cancelling, dropping, submitting).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from kappanb.core.names import output_table
from kappanb.core.positions import EARLIEST_AVAILABLE, ReadRange
from kappanb.exceptions import (
    RunConflictError,
    RunNotFoundError,
    StackNotRunningError,
    StartPositionError,
    TaskSlotsBusyError,
)
from kappanb.history.archive_replay import (
    Handoffs,
    check_archive_range,
    handoff_offsets,
    handoffs_of,
    plan_handoffs,
    snapshots_text,
)
from kappanb.kafka.run_offsets import (
    Offsets,
    StartAt,
    head_offsets,
    offsets_text,
    start_offsets,
)
from kappanb.monitor.samplers import SAMPLERS
from kappanb.monitor.verdicts import CaughtUpVerdicts
from kappanb.monitor.watch_set import WatchSet, watch_runs
from kappanb.registry.base import Registry, now
from kappanb.registry.kinds import RunMode
from kappanb.registry.records import JobVersion, RunRecord, TopicSpec
from kappanb.runs import runs
from kappanb.runs.chain_reads import (
    check_chain_range,
    cut_offsets,
    older_reads,
    older_sides,
    read_topics,
)
from kappanb.runs.report import RunHandle
from kappanb.runs.retention import check_history
from kappanb.runs.slots import SlotCount, count_slots, describe_holders
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.catalog import drop_table, table_exists, table_has_data
from kappanb.versions import definitions, malformed


def checked_start(
    registry: Registry, name: str, version: int | None, rng: ReadRange
) -> tuple[JobVersion, list[TopicSpec]]:
    """The version to start and the topics it reads, or why it cannot start so."""
    job_version = definitions.find_version(registry, name, version)
    topics = [definitions.find_topic(registry, t) for t in job_version.sources]
    check_chain_range(job_version, topics, rng)
    if rng.from_archive:
        check_archive_range(job_version, topics, rng)
    if rng.uses_offsets() and len(topics) > 1:
        raise StartPositionError("partition offsets in --from need a job that reads one topic")
    compacted = [t.name for t in topics if t.compact]
    if rng.bounded and compacted:
        raise StartPositionError(
            f"a bounded replay cannot end: {', '.join(compacted)} is compacted and read as a "
            "table (always whole, never finished); replay without --until"
        )
    return job_version, topics


def dead_letters(topics: Sequence[TopicSpec]) -> str:
    """The dead-letter topics of a run reading ``topics`` (see `RunRecord.dead_letters`)."""
    return ",".join(t.dlq_topic for t in topics if malformed.routes(t) and t.dlq_topic)


class RunControl:
    """Runs of one home against its running stack."""

    def __init__(
        self, registry: Registry, launcher: runs.RunLauncher, endpoints: Endpoints,
        verdicts: CaughtUpVerdicts | None = None,
    ) -> None:  # fmt: skip
        self.registry, self.launcher, self.endpoints = registry, launcher, endpoints
        self.verdicts = verdicts
        """Where watches record caught-up verdicts for the panel (`kappanb.monitor.verdicts`)."""

    def start(
        self, job_version: JobVersion, topics: list[TopicSpec], mode: RunMode, rng: ReadRange,
        *, restart: bool, new_table: bool, watch: bool, parallelism: int = 1,
        into: str | None = None,
    ) -> RunHandle:  # fmt: skip
        """Start a run; ``into``: the table it replaces (a bounded replay started again),
        instead of the version's own."""
        name, launcher = job_version.job, self.launcher
        mine = launcher.reconciled(name, job_version.version)
        active = [r for r in mine if r.active]
        if active and not restart:
            raise RunConflictError(
                f"{name} {job_version.label} already runs (run #{active[0].id}, {active[0].mode}, "
                f"into {active[0].table}); add --restart to replace it, or stop it first"
            )
        older = older_reads(self.registry.topics(), topics, rng)
        reads = read_topics(older, topics)  # what the run reads of Kafka
        handoffs: Handoffs = {}
        if rng.from_archive:  # the archive and the log must meet, before any side effect
            command = f"replay {name} {job_version.label}"
            handoffs = plan_handoffs(self.endpoints.catalog, self.endpoints.kafka, command,
                                     topics)  # fmt: skip
        elif mode == "replay":  # the one check of the log's history, before any side effect
            check_history(self.registry, launcher.rest, self.endpoints.kafka, job_version,
                          reads, rng, self.endpoints.catalog)  # fmt: skip
        command = f"{'run' if mode == 'live' else 'replay'} {name} {job_version.label}"
        asked = f"{command} --parallelism {parallelism}" if parallelism > 1 else command
        self.check_slots(parallelism, asked, releasing=active)  # --restart frees theirs
        table = into or self.output_table(job_version, mine, restart, new_table)
        for run in active:
            launcher.stop(run, savepoint=False)
        if not new_table:
            drop_table(self.endpoints.catalog, table)  # empty leftovers, or replaced on --restart
        group = runs.group_id_for(job_version, mode)
        # The run's id goes into its dead-letter records, so it is reserved before submitting.
        reserved = self.registry.add_run(RunRecord(
            id=0, job=name, version=job_version.version, mode=mode, table=table, group_id=group,
            start=rng.start, until=rng.until, flink_job_id="", state="SUBMITTING",
            started_at=now(), parallelism=parallelism, dead_letters=dead_letters(reads),
            first_offsets=handoff_offsets(handoffs) or self.first_offsets(reads, rng),
            end_offsets=self.end_offsets(reads, rng, cut_offsets(older, topics)),
            archive_snapshots=snapshots_text(handoffs),
        ))  # fmt: skip
        plan = runs.RunPlan(
            job_version, topics, mode, rng, table, group, parallelism, reserved.id, handoffs,
            older,
        )  # fmt: skip
        try:
            job_id, url = launcher.submit(plan)
        except BaseException:
            self.registry.delete_run(reserved.id)
            raise
        try:
            record = self.registry.update_run(reserved.id, flink_job_id=job_id, state="RUNNING")
        except BaseException:
            launcher.rest.cancel(job_id)  # no job kappanb does not know about
            raise
        watching = self.watch_set(name, also=record.id) if watch else None
        return self.handle(record, url, watch=watching)

    def first_offsets(self, topics: Sequence[TopicSpec], rng: ReadRange) -> str:
        """The log's start now, for a run from it (`RunRecord.first_offsets`); else ""."""
        if rng.start not in ("earliest", EARLIEST_AVAILABLE):
            return ""
        names = [t.name for t in topics]
        return offsets_text(start_offsets(self.endpoints.kafka, names, StartAt()))

    def end_offsets(
        self, topics: Sequence[TopicSpec], rng: ReadRange, cuts: Offsets | None = None
    ) -> str:
        """The heads now, for a replay to them (`RunRecord.end_offsets`); else "". A topic
        read up to a cut (``cuts``: an older version) ends there."""
        if rng.until != "latest":
            return ""
        heads = head_offsets(self.endpoints.kafka, [t.name for t in topics])
        return offsets_text({**heads, **(cuts or {})})

    def check_slots(
        self, parallelism: int, asked: str, releasing: Sequence[RunRecord] = ()
    ) -> None:
        """Refuse a parallelism the cluster cannot schedule now: above its slots (it would
        never run), or above the slots free once ``releasing`` runs are stopped (its tasks
        would wait, then fail). ``asked`` names the request in the message."""
        if parallelism < 1:
            raise RunConflictError(
                f"parallelism is a number of tasks, 1 or more, not {parallelism}"
            )
        count = count_slots(self.launcher.rest)
        if count.total == 0:
            raise StackNotRunningError(
                "the Flink cluster has no task slots: its TaskManager is not running "
                "(`status` shows it); `up` starts it"
            )
        if parallelism > count.total:
            raise RunConflictError(
                f"{asked} needs {parallelism} task slots, and the Flink cluster has "
                f"{count.total}: use at most {count.total} (`down`, then `up --slots N`, or "
                "KAPPANB_TASK_SLOTS, sets the embedded cluster's slots)"
            )
        free = count.free({r.flink_job_id for r in releasing})
        if parallelism > free:
            self._refuse_busy_slots(parallelism, asked, count, free, releasing)

    def _refuse_busy_slots(
        self, parallelism: int, asked: str, count: SlotCount, free: int,
        releasing: Sequence[RunRecord],
    ) -> None:  # fmt: skip
        released = {r.flink_job_id for r in releasing}
        holders = [h for h in count.holders if h.flink_job_id not in released]
        users = "; ".join(describe_holders(holders, self.registry.runs(None)))
        more = count.total + parallelism - max(free, 0)
        lower = ", or ask for a lower --parallelism" if "--parallelism" in asked else ""
        raise TaskSlotsBusyError(
            f"{asked} needs {parallelism} task slot{'s' if parallelism > 1 else ''}, and "
            f"{max(free, 0)} of the cluster's {count.total} {'is' if free == 1 else 'are'} "
            f"free: {users}. Stop a run you do not need (`stop JOB vN`){lower}; or `down`, "
            f"then `up --slots {more}`. Nothing was started"
        )

    def output_table(
        self, job_version: JobVersion, runs_so_far: list[RunRecord], restart: bool,
        new_table: bool,
    ) -> str:  # fmt: skip
        """The table a new run writes; refuses to mix outputs. No side effects."""
        catalog = self.endpoints.catalog
        table = output_table(job_version.job, job_version.version)
        if new_table:
            suffix = 2
            while table_exists(catalog, table):
                table = output_table(job_version.job, job_version.version, suffix)
                suffix += 1
            return table
        if table_has_data(catalog, table) and not restart:
            earlier = [r for r in runs_so_far if r.table == table]
            resume = (
                f"`resume {job_version.job} {job_version.version}` continues run "
                f"#{earlier[-1].id} ({earlier[-1].state}), "
                if earlier and earlier[-1].state not in ("FINISHED",)
                else ""
            )
            raise RunConflictError(
                f"table {table} already has output of an earlier run of {job_version.job} "
                f"{job_version.label}: {resume}--restart replaces it, --new-table keeps it"
            )
        return table

    def active_run(self, job_version: JobVersion) -> RunRecord:
        """The version's running run (``job_version`` as the caller found it)."""
        mine = self.launcher.reconciled(job_version.job, job_version.version)
        active = [r for r in mine if r.active]
        if not active:
            states = ", ".join(f"#{r.id} {r.state}" for r in mine) or "never started"
            raise RunNotFoundError(
                f"{job_version.job} {job_version.label} is not running ({states})"
            )
        return active[-1]

    def stop(self, job_version: JobVersion, savepoint: bool) -> RunHandle:
        return self._stop(self.active_run(job_version), savepoint)

    def stop_run(self, run: RunRecord, savepoint: bool) -> RunHandle:
        """Stop ``run`` itself (a handle's run), not whichever run its version has now."""
        mine = self.launcher.reconciled(run.job, run.version)
        now = next((r for r in mine if r.id == run.id), run)
        if not now.active:
            raise RunNotFoundError(
                f"{run.job} v{run.version}'s run #{run.id} is not running ({now.state})"
            )
        return self._stop(now, savepoint)

    def _stop(self, run: RunRecord, savepoint: bool) -> RunHandle:
        stopped = self.launcher.stop(run, savepoint)
        how = "with a savepoint" if savepoint else "(cancelled)"  # the path: in its table
        url = self.endpoints.job_url(run.flink_job_id)
        return self.handle(stopped, url, f"stopped {run.job} v{run.version} {how}")

    def resume(self, name: str, version: int) -> RunHandle:
        """Continue the last run of ``name`` v``version`` (`up` resumes runs by their record)."""
        return self.resume_version(definitions.find_version(self.registry, name, version))

    def resume_version(self, job_version: JobVersion) -> RunHandle:
        """Continue the version's last run (``job_version`` as the caller found it)."""
        name = job_version.job
        mine = self.launcher.reconciled(name, job_version.version)
        if not mine:
            raise RunNotFoundError(
                f"{name} {job_version.label} has never run: use `run` or `replay`"
            )
        active = [r for r in mine if r.active]
        if active:
            raise RunConflictError(
                f"{name} {job_version.label} is already running (run #{active[-1].id})"
            )
        # Runs before the newest finished one were replaced by it (or by a replay of a
        # bounded one started again, which is marked CANCELED): only later ones continue.
        newest_finished = max((r.id for r in mine if r.state == "FINISHED"), default=0)
        resumable = [r for r in mine if r.state != "FINISHED" and r.id > newest_finished]
        if not resumable:
            raise RunConflictError(
                f"the last run of {name} {job_version.label} finished: nothing to resume; "
                "start another with --restart or --new-table"
            )
        last = resumable[-1]
        if last.until is not None and not self._served(last):
            return self._replay_again(job_version, last)
        self.check_slots(last.parallelism, f"resume {name} {job_version.label} (parallelism "
                         f"{last.parallelism}, as it ran)")  # fmt: skip
        point = self.launcher.restore_point(last)
        topics = [definitions.find_topic(self.registry, t) for t in job_version.sources]
        rng = ReadRange(last.start, last.until)
        older = older_reads(self.registry.topics(), topics, rng)
        plan = runs.RunPlan(
            job_version, topics, last.mode, rng, last.table, last.group_id, last.parallelism,
            last.id, handoffs_of(last), older,
        )  # fmt: skip
        job_id, url = self.launcher.submit(plan, restore=point)
        record = self.registry.update_run(
            last.id, flink_job_id=job_id, state="RUNNING", ended_at=None, error=None,
            restored_from=point, savepoint=None,
            dead_letters=dead_letters(read_topics(older, topics)),
        )  # fmt: skip
        return self.handle(record, url, f"resumed {name} v{job_version.version} from {point}")

    def _served(self, run: RunRecord) -> bool:
        switch = self.registry.serving(run.job)
        return switch is not None and switch.to_version == run.version

    def _replay_again(self, job_version: JobVersion, last: RunRecord) -> RunHandle:
        """A bounded replay is not resumed from its snapshot: Flink's Kafka source restored
        from one never learns that no more partitions come, so it reads to its end and
        never finishes (FLINK-31006). It is replayed again from its start instead, into
        its table emptied first (not served, so no reader sees that), and the stopped run
        is marked as replaced. Exact, at the cost of reading again what it had read."""
        topics = [definitions.find_topic(self.registry, t) for t in job_version.sources]
        rng = ReadRange(last.start, last.until)
        handle = self.start(
            job_version, topics, last.mode, rng, restart=True, new_table=False, watch=False,
            parallelism=last.parallelism, into=last.table,
        )  # fmt: skip
        why = (f"replaced by run #{handle.run.id}: a bounded replay is replayed again from its "
               "start, not resumed (FLINK-31006: resumed, it would never finish)")  # fmt: skip
        self.registry.update_run(last.id, state="CANCELED", ended_at=now(), error=why)
        message = (
            f"replayed {job_version.job} {job_version.label} again from its start as run "
            f"#{handle.run.id} (run #{last.id}, {last.state}, was a bounded replay: resumed "
            "from its snapshot it would never finish, FLINK-31006)"
        )
        return self.handle(handle.run, handle.web_url, message)

    def handle(
        self, record: RunRecord, url: str, message: str = "", watch: WatchSet | None = None
    ) -> RunHandle:
        """A handle that can always wait: without ``watch``, it watches on first need."""
        watcher = partial(self.watch_of, record)
        return RunHandle(record, url, message, watch=watch, watcher=watcher)

    def watch_of(self, record: RunRecord) -> WatchSet:
        """Watch one run (even ended) and, for a replay, the live run it compares with."""
        runs_now = self.launcher.reconciled(record.job)
        live = {r.version for r in runs_now if r.mode == "live" and r.active}
        versions = {record.version} | (live if record.mode != "live" else set())
        return self.watch_set(record.job, sorted(versions), also=record.id)

    def watch_set(
        self, name: str, versions: Sequence[int] = (), *, interval: float = 1.0,
        threshold: int = 1000, also: int | None = None, shared: bool = True,
        known: Sequence[JobVersion] = (),
    ) -> WatchSet:  # fmt: skip
        """Watch the active runs (of ``versions``), and run ``also`` even if it ended already.

        ``shared``: through the process's shared samplers (`kappanb.monitor.samplers`);
        otherwise with watches of the set's own, judged afresh. ``known``: versions of the
        job the caller found already, not looked up again."""
        found = {v.version: v for v in known if v.job == name}
        mine = self.launcher.reconciled(name)
        chosen = [
            r for r in mine
            if (r.active and (not versions or r.version in versions)) or r.id == also
        ]  # fmt: skip
        if not chosen:
            states = ", ".join(f"v{r.version} {r.mode} {r.state}" for r in mine) or "none"
            raise RunNotFoundError(f"no run of {name} is running to watch ({states})")
        sources = {
            r.version: [
                definitions.find_topic(self.registry, t)
                for t in (
                    found.get(r.version) or definitions.find_version(self.registry, name, r.version)
                ).sources
            ]
            for r in chosen
        }
        return watch_runs(
            name, chosen, sources, self.launcher.rest, self.endpoints, interval=interval,
            threshold=threshold, samplers=SAMPLERS if shared else None,
            serving=current.to_version if (current := self.registry.serving(name)) else None,
            verdicts=self.verdicts, bounded=older_sides(self.registry, chosen),
        ).start()  # fmt: skip
