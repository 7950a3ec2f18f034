"""The API's commands over the versions' outputs: compare two (`diff`), switch what
readers get (`promote`, `rollback`, `retire`, `history`, `serving`), remove retired tables
whose grace period has passed (`sweep`), read them (`read`, `sql`) and keep them fast to
read (`compact`).
`kappanb.workbench.Workbench` has them; they reach the stack through what it gives
(`_control`, `_launcher`), each checking its input before the stack is asked.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kappanb.compare import Diff
from kappanb.core.durations import grace_ms
from kappanb.exceptions import RunNotFoundError
from kappanb.registry.base import Registry
from kappanb.runs.control import RunControl
from kappanb.runs.runs import RunLauncher
from kappanb.serving.compacting import DEFAULT_RETENTION, CompactResult, compact_output
from kappanb.serving.comparing import check_diff, check_flink_for, compare_versions, in_flight_runs
from kappanb.serving.removal import Swept, sweep
from kappanb.serving.serving import (
    Retired,
    Serving,
    Switched,
    SwitchHistory,
    check_promote,
    check_retire,
    check_rollback,
)
from kappanb.stack.base import Stack
from kappanb.stack.endpoints import Endpoints
from kappanb.stack.health import StackHealth, command
from kappanb.tables.catalog import Catalog
from kappanb.tables.query import run_query
from kappanb.tables.read import scan_table
from kappanb.versions import definitions


class ServingCommands:
    """diff, promote, rollback, retire, history, serving, sweep, read, compact and sql."""

    registry: Registry
    stack: Stack
    _health: StackHealth

    def _control(self) -> RunControl:
        """Runs of the home against its running stack (the workbench gives it)."""
        raise NotImplementedError

    def _launcher(self, endpoints: Endpoints) -> RunLauncher:
        raise NotImplementedError

    @command
    def diff(
        self, name: str, old: int, new: int, *, key: Sequence[str] | None = None,
        where: str | None = None, tolerance: float = 0.0,
    ) -> Diff:  # fmt: skip
        """Compare two versions' outputs by key: only in one, changed (old, new, delta),
        identical; keys a version still catching up has not finalised are set apart.
        Needs the stack only for a version whose run is in flight (its watermark)."""
        versions, columns = check_diff(self.registry, name, old, new, key)  # before the stack
        flink = None  # only runs in flight need it; never started for a diff
        if in_flight := in_flight_runs(self.registry, name, (old, new)):
            check_flink_for(in_flight, self._health.status())
            flink = self._launcher(self.stack.endpoints())
        return compare_versions(
            self.registry, self._catalog(), flink, name, versions, columns, where=where,
            tolerance=tolerance,
        )  # fmt: skip

    @command
    def promote(
        self, name: str, version: int, *, force: bool = False, reason: str = ""
    ) -> Switched:
        """Switch readers of ``name`` to ``version`` in one step (once it has caught up)."""
        with self.registry.job_lock(name, f"promote {name} v{version}"):
            current = check_promote(self.registry, name, version)  # before the stack
            serving = Serving(self._control())
            return Switched(serving.promote(name, version, current, force=force, reason=reason))

    @command
    def rollback(self, name: str, *, reason: str = "") -> Switched:
        """Switch readers back to the version the current one replaced."""
        with self.registry.job_lock(name, f"rollback {name}"):
            current = check_rollback(self.registry, name)  # before the stack
            serving = Serving(self._control())
            return Switched(serving.rollback(name, current, reason=reason))

    def history(self, name: str) -> SwitchHistory:
        """Every switch of the serving alias: when, from which version, to which, why; and
        the removals of its retired tables: scheduled when, due when, removed or called off."""
        definitions.find_version(self.registry, name, None)
        return SwitchHistory(name, self.registry.switches(name), self.registry.removals(name))

    def serving(self, name: str) -> int | None:
        """The version readers of ``name`` get now (None before its first live run)."""
        definitions.find_version(self.registry, name, None)
        current = self.registry.serving(name)
        return current.to_version if current else None

    @command
    def retire(
        self, name: str, version: int, *, drop: bool = False, remove_after: str | None = None
    ) -> Retired:
        """Stop a version (savepoint), keep its table as a rollback target (or ``drop`` it),
        or schedule its removal once ``remove_after`` ("7d", "36h") has passed on the
        registry's clock; `sweep` (and `up`) then removes it, unless it serves again or is
        the rollback target by then. Refused for the served version and, with ``drop`` or
        ``remove_after``, for the rollback target, before anything is stopped."""
        if drop and remove_after is not None:
            raise TypeError("give retire drop=True or remove_after, not both")
        after = None if remove_after is None else grace_ms(remove_after)
        with self.registry.job_lock(name, f"retire {name} v{version}"):
            retired = check_retire(
                self.registry, name, version, remove=after is not None, drop=drop
            )
            serving = Serving(self._control())  # the stack, after the checks
            return serving.retire(retired, drop=drop, remove_after_ms=after)

    def sweep(self) -> Swept:
        """Remove the retired tables whose grace period has passed (`retire --remove-after`),
        after checking again that none is served or the rollback target now (those removals
        are called off, saying why). Needs the registry and the catalog, never Flink."""
        return sweep(self.registry, self._catalog())

    def sql(self, query: str) -> pl.DataFrame:
        """Run SQL over the jobs' outputs: a job's name reads its serving version,
        ``JOB__vN`` a version's table (polars' SQL, in this process; no stack needed)."""
        serving = {job: s.table for job in {v.job for v in self.registry.versions()}
                   if (s := self.registry.serving(job)) is not None}  # fmt: skip
        tables = {r.table: r.table for r in self.registry.runs()}
        names = {**tables, **serving}
        return run_query(query, names, lambda name: scan_table(self._catalog(), names[name]))

    def read(self, name: str, version: int | None = None) -> pl.LazyFrame:
        """The whole output of a version as a polars LazyFrame; by default the serving
        version's (the alias, resolved once: one version's snapshot, never a mix), or before
        any live run the newest version that ran. Reads the catalog's files only: works with
        the stack down, and never starts it."""
        return scan_table(self._catalog(), self._output_of(name, version)[1])

    def compact(
        self, name: str, version: int | None = None, *, retain: str = DEFAULT_RETENTION
    ) -> CompactResult:
        """Rewrite a version's output table (default: the served version's) into few data
        files with every delete applied, then expire its snapshots older than ``retain``
        ("1d", "36h"; the current one always stays). Safe while its run keeps committing;
        needs the catalog only."""
        grace_ms(retain)  # a wrong retention changes nothing
        self._output_of(name, version)  # an unknown job or version: refused before the lock
        with self.registry.job_lock(name, f"compact {name}"):
            resolved, table = self._output_of(name, version)  # what serves now
            return compact_output(self._catalog(), name, resolved, table, retain=retain)

    def _output_of(self, name: str, version: int | None) -> tuple[int, str]:
        """The version meant and its output table: the served one by default, before any
        live run the newest that ran."""
        if version is None and (current := self.registry.serving(name)) is not None:
            return current.to_version, current.table
        mine = self.registry.runs(name)
        if version is not None:
            definitions.find_version(self.registry, name, version)
            mine = [r for r in mine if r.version == version]
        if not mine:
            definitions.find_version(self.registry, name, version)
            raise RunNotFoundError(f"{name} has no run yet, so no output table: `run {name}`")
        return mine[-1].version, mine[-1].table

    def _catalog(self) -> Catalog:
        """The Iceberg catalog: files in the home's layout. Reads need no service, so
        this asks none (no health check) and never starts the stack."""
        return self.stack.endpoints().catalog
