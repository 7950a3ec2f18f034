"""Fault injection on the fault stack, and the recovery times the trials record.

Every trial appends a `Recovery`; the root conftest prints them at the end of the session
(and docs/reliability.md reports a CI run's figures).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from kappanb.flink.rest import FlinkRest
from kappanb.stack.embedded import EmbeddedStack
from kappanb.stack.process import read_pid_file
from tests.faults.reading import Reader, Reading
from tests.oracles import daily_payments

STARTING = frozenset({"CREATED", "SCHEDULED", "DEPLOYING", "INITIALIZING", "RECONCILING"})


@dataclass(frozen=True)
class Recovery:
    fault: str
    trial: str
    seconds: float
    outcome: str


RECOVERIES: list[Recovery] = []


def record(fault: str, trial: str, seconds: float, outcome: str) -> None:
    RECOVERIES.append(Recovery(fault, trial, seconds, outcome))
    print(f"\n{fault} [{trial}]: recovered in {seconds:.1f} s; {outcome}")


def kill(stack: EmbeddedStack, service: str) -> int:
    """``kill -9`` the service's process; return once it is gone."""
    found = read_pid_file(stack.layout.pid_file(service))
    assert found is not None, f"{service} is not running"
    os.kill(found.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not _alive(found.pid):
            return found.pid
        time.sleep(0.05)
    raise AssertionError(f"{service} (pid {found.pid}) survived kill -9")


def _alive(pid: int) -> bool:
    """Running, and not a zombie (a service this process started stays one until reaped)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaps it when it is our child
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def tasks_running(rest: FlinkRest, job_id: str) -> bool:
    """The job runs and every one of its tasks runs (or has finished its part)."""
    job = rest.job(job_id)
    if job["state"] != "RUNNING":
        return False
    return all(v["status"] in ("RUNNING", "FINISHED") for v in job["vertices"]) and not any(
        v.get("tasks", {}).get(s, 0) for v in job["vertices"] for s in STARTING
    )


def wait_failed_over(
    rest: FlinkRest, job_id: str, restarts: int, timeout: float = 300, logs: Path | None = None
) -> float | None:
    """Seconds until the job has restarted (more than ``restarts`` times) and runs every task
    again, or has finished after restarting. None when it finished without a restart: its
    tasks had all finished before the kill (Flink's metrics lag the tasks by up to 0.5 s)."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        state = rest.job_state(job_id)
        if state in ("FAILED", "CANCELED"):
            raise AssertionError(
                f"the job ended {state}: {rest.root_exception(job_id)}\n"
                + flink_picture(rest, job_id, logs)
            )
        restarted = rest.restarts(job_id) > restarts
        if state == "FINISHED" and not restarted:
            return None
        if restarted and (state == "FINISHED" or tasks_running(rest, job_id)):
            return time.monotonic() - began
        time.sleep(0.2)
    raise AssertionError(
        f"job {job_id} did not restart and run again within {timeout:.0f} s "
        f"({rest.job_state(job_id)}, {rest.restarts(job_id)} restart(s))\n"
        + flink_picture(rest, job_id, logs)
    )


def flink_picture(rest: FlinkRest, job_id: str, logs: Path | None = None) -> str:
    """What Flink says of a job that did not recover: its tasks' states, the TaskManagers,
    the failures it recorded and the JobManager log's last lines (so that a flaky failure
    is explained by its own CI log)."""
    lines: list[str] = []
    with contextlib.suppress(Exception):
        for vertex in rest.job(job_id)["vertices"]:
            lines.append(f"vertex {vertex['name'][:60]!r}: {vertex['status']} {vertex['tasks']}")
    with contextlib.suppress(Exception):
        for m in rest._request("GET", "/taskmanagers")["taskmanagers"]:
            lines.append(f"TaskManager {m['id']}: {m['slotsNumber']} slots, {m['freeSlots']} free")
    with contextlib.suppress(Exception):
        history = rest._request("GET", f"/jobs/{job_id}/exceptions")
        for entry in history.get("exceptionHistory", {}).get("entries", [])[:5]:
            lines.append(f"failure: {entry.get('exceptionName')} on {entry.get('taskName')}")
    if logs is not None and logs.is_dir():
        for log in sorted(logs.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-60:]
            lines.append(f"--- {log.name} (last {len(tail)} lines)")
            lines.extend(line[:400] for line in tail)
    return "\n".join(lines)


def checkpoint_in_progress(rest: FlinkRest, job_id: str) -> int | None:
    """The id of a checkpoint the job is taking right now, if any."""
    stats = rest.checkpoints(job_id)
    for item in stats.get("history", []):
        if item.get("status") == "IN_PROGRESS":
            return int(item["id"])
    return None


def completed_checkpoints(rest: FlinkRest, job_id: str) -> int:
    return int(rest.checkpoints(job_id).get("counts", {}).get("completed", 0))


def failed_checkpoints(rest: FlinkRest, job_id: str) -> int:
    """Checkpoints that began and did not complete: a pending one that a TaskManager's death
    aborts counts here."""
    return int(rest.checkpoints(job_id).get("counts", {}).get("failed", 0))


def trigger_checkpoint(rest: FlinkRest, job_id: str) -> None:
    """Ask Flink for a checkpoint now (its answer comes before the checkpoint completes)."""
    rest._request("POST", f"/jobs/{job_id}/checkpoints", {"checkpointType": "CONFIGURED"})


DAILY_SQL = (
    "SELECT CAST(event_time AS DATE) AS `day`, COUNT(DISTINCT merchant_id) AS merchants, "
    "COUNT(*) AS payments, SUM(amount_cents) AS amount FROM {table} WHERE captured "
    "GROUP BY CAST(event_time AS DATE)"
)


def daily_rows(out: pl.DataFrame) -> list[tuple[Any, ...]]:
    """The output's rows, sorted, as (day, merchants, payments, amount)."""
    rows = out.select("day", "merchants", "payments", "amount").rows()
    return sorted(rows)


def daily_oracle(events: list[dict[str, Any]]) -> list[tuple[date, int, int, int]]:
    return sorted((d, *v) for d, v in daily_payments(events, captured=True).items())


def assert_exact(out: pl.DataFrame, events: list[dict[str, Any]]) -> None:
    """Equal to the oracle: every day once (no duplicate), none missing, every figure right."""
    rows = daily_rows(out)
    days = [r[0] for r in rows]
    assert len(days) == len(set(days)), f"a day appears twice: {rows}"
    expected = daily_oracle(events)
    missing = sorted(set(d for d, *_ in expected) - set(days))
    assert not missing, f"days missing from the output: {missing}"
    assert rows == expected, _first_difference(rows, expected)


def _first_difference(rows: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> str:
    for got, want in zip(rows, expected, strict=False):
        if got != want:
            return f"first difference: got {got}, want {want} ({len(rows)} vs {len(expected)} rows)"
    return f"{len(rows)} rows, want {len(expected)}"


@dataclass(frozen=True)
class Killed:
    """Where a TaskManager kill landed: the share of the log read just before it, the
    checkpoints completed by then, and the job's restarts before it."""

    read: float
    checkpoints: int
    restarts: int
    failed_checkpoints: int = 0

    def __str__(self) -> str:
        return f"with {self.read:.0%} of the log read and {self.checkpoints} checkpoint(s) done"


LAST_SAFE_SHARE = 0.85
"""A kill counts as "while reading" only below this share of the log by `Reading`, whose
witnesses lag the tasks by up to 0.5 s (or a checkpoint)."""


def kill_while_reading(
    stack: EmbeddedStack, reader: Reader, total: int, fraction: float, timeout: float = 120
) -> Killed | str:
    """``kill -9`` the TaskManager once the job has completed a checkpoint and read at least
    ``fraction`` of the ``total`` records, while it still has some to read (at most
    `LAST_SAFE_SHARE` of them, see `Reading`). Measured just before the kill (a killed
    TaskManager's metrics are gone). Why not, when the job read everything or ended first:
    such a trial missed its moment and is to be retried."""
    return act_while_reading(
        reader, total, fraction, lambda: kill(stack, "flink-taskmanager"), timeout
    )


def act_while_reading(
    reader: Reader, total: int, fraction: float, act: Callable[[], object], timeout: float = 120
) -> Killed | str:
    """`kill_while_reading` with any fault: ``act()`` at that moment (on a cluster: kill one
    of its TaskManagers, brokers or its JobManager)."""
    rest, job_id = reader.rest, reader.job_id
    deadline = time.monotonic() + timeout
    with Reading(reader) as reading:
        while time.monotonic() < deadline:
            state = rest.job_state(job_id)
            if state not in STARTING | {"RUNNING"}:
                return f"the job was {state} before its moment ({fraction:.0%} read)"
            read = reading.read() if state == "RUNNING" else 0
            done = completed_checkpoints(rest, job_id) if state == "RUNNING" else 0
            if read > LAST_SAFE_SHARE * total:  # both witnesses lag: it may have read all
                return f"the job read {read / total:.0%} before its moment ({fraction:.0%})"
            if done >= 1 and read >= fraction * total:
                restarts = rest.restarts(job_id)
                act()
                return Killed(read / total, done, restarts)
            time.sleep(0.05)
    raise AssertionError(f"the moment ({fraction:.0%} read) never came within {timeout:.0f} s")
