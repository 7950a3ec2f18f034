"""Where a run's tasks run: the TaskManager process behind its Flink job.

Flink's REST API names the TaskManagers a job's tasks are deployed to; the stack maps such
a name to a process it knows (`Stack.taskmanager`): the embedded stack's one TaskManager,
one of the local cluster's, none on a cluster kappanb does not run.
"""

from __future__ import annotations

import time

from kappanb.exceptions import RunNotFoundError
from kappanb.flink.rest import TERMINAL_STATES, FlinkRest
from kappanb.registry.records import RunRecord
from kappanb.stack.base import Stack
from kappanb.stack.status import ServiceStatus


def taskmanager_of(
    stack: Stack, rest: FlinkRest, run: RunRecord, timeout: float = 60.0
) -> ServiceStatus:
    """The TaskManager process that runs ``run``'s tasks; waits up to ``timeout`` seconds
    while they are not deployed yet (a job just submitted, or restarting)."""
    job, deadline = run.flink_job_id, time.monotonic() + timeout
    what = f"run #{run.id} ({run.job} v{run.version}, Flink job {job})"
    if not job:
        raise RunNotFoundError(f"{what} has no Flink job")
    while not (found := rest.job_taskmanagers(job)):
        state = rest.job_state(job)
        if state in TERMINAL_STATES or time.monotonic() > deadline:
            why = f"it is {state}" if state in TERMINAL_STATES else f"{timeout:.0f} s passed"
            raise RunNotFoundError(f"{what} runs on no TaskManager ({why})")
        time.sleep(0.2)
    if len(found) > 1:
        raise RunNotFoundError(
            f"{what} runs on {len(found)} TaskManagers ({', '.join(found)}), not one"
        )
    return stack.taskmanager(found[0])
