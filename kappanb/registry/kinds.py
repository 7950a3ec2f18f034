"""The values a run's mode and state, a job's kind, a switch's kind and a removal's state
can take.

Each is a `Literal` of the strings the registry stores (SQLite rows, JSON) and Flink's REST
API reports, so the stored data and the API stay plain strings while mypy knows the set.
A string from outside (a registry row, Flink's answer) is narrowed once, where it enters,
by `run_mode`, `run_state`, `flink_job_state`, `job_kind`, `switch_kind` or
`removal_state`: an unknown value is refused there with `UnknownValueError`, not carried
along.

Imports nothing of kappanb but its exceptions, so any package may use it.
"""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

from kappanb.exceptions import UnknownValueError

RunMode = Literal["live", "replay", "archive"]
"""A live run owns the version's consumer group (``kappanb.JOB.vN``) and can serve
readers; a replay reads beside it with a fresh group, from a start and maybe to an end;
an archive mirrors a topic's records into its archive table (`kappanb.runs.archive`)."""

JobKind = Literal["sql", "python"]
"""What a job version's text is: Flink SQL, or a PyFlink cell (``job --python``)."""

FlinkJobState = Literal[
    "INITIALIZING", "CREATED", "RUNNING", "FAILING", "FAILED", "CANCELLING", "CANCELED",
    "FINISHED", "RESTARTING", "SUSPENDED", "RECONCILING",
]  # fmt: skip
"""A job's state as Flink's REST API reports it (Flink's ``JobStatus``)."""

RunState = Literal[FlinkJobState, "SUBMITTING", "STOPPED", "LOST"]
"""A run's state in the registry: Flink's state of its job as last seen, or kappanb's own:
SUBMITTING (reserved, not yet accepted by Flink), STOPPED (by `stop`), LOST (the cluster
no longer knows the job), SUSPENDED (stopped with a savepoint by `down`)."""

SwitchKind = Literal["first live run", "promote", "rollback"]
"""Why a job's serving alias was switched."""

RemovalState = Literal["scheduled", "removing", "removed", "cancelled"]
"""Where a retired table's scheduled removal stands: waiting for its grace period,
claimed by a sweep that is dropping it, gone, or called off (it served again, ...)."""

RUN_MODES: tuple[RunMode, ...] = get_args(RunMode)
JOB_KINDS: tuple[JobKind, ...] = get_args(JobKind)
FLINK_JOB_STATES: tuple[FlinkJobState, ...] = get_args(FlinkJobState)
RUN_STATES: tuple[RunState, ...] = get_args(RunState)
SWITCH_KINDS: tuple[SwitchKind, ...] = get_args(SwitchKind)
REMOVAL_STATES: tuple[RemovalState, ...] = get_args(RemovalState)

_Known = TypeVar("_Known", bound=str)


def _one_of(value: str, known: tuple[_Known, ...], what: str) -> _Known:
    for candidate in known:
        if value == candidate:
            return candidate
    raise UnknownValueError(f"{value!r} is not a {what} this kappanb knows ({', '.join(known)})")


def run_mode(value: str) -> RunMode:
    return _one_of(value, RUN_MODES, "run mode")


def job_kind(value: str) -> JobKind:
    return _one_of(value, JOB_KINDS, "job kind")


def flink_job_state(value: str) -> FlinkJobState:
    return _one_of(value, FLINK_JOB_STATES, "Flink job state")


def run_state(value: str) -> RunState:
    return _one_of(value, RUN_STATES, "run state")


def switch_kind(value: str) -> SwitchKind:
    return _one_of(value, SWITCH_KINDS, "switch kind")


def removal_state(value: str) -> RemovalState:
    return _one_of(value, REMOVAL_STATES, "removal state")
