"""A thin client for the Flink REST API of the session cluster."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

from kappanb.exceptions import FlinkRestError
from kappanb.flink.errors import flink_error_message
from kappanb.flink.job_archive import exception_text

TERMINAL_STATES = frozenset({"FINISHED", "FAILED", "CANCELED"})
# How Flink refuses to cancel (or stop) a job that has ended meanwhile.
TERMINAL_REFUSAL = "already reached another terminal state"


class FlinkRest:
    """GET/PATCH helpers over the JobManager's REST API."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.base_url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data else {},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise FlinkRestError(
                f"Flink REST {method} {path} answered {exc.code}: {detail}"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise FlinkRestError(
                f"Flink REST API at {self.base_url} did not answer ({exc}). "
                "Is the cluster running? (`kappanb status`)"
            ) from exc
        return json.loads(body) if body else None

    def overview(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/overview")
        return result

    def jobs(self) -> list[dict[str, Any]]:
        """Every job the cluster knows: id, name, state, start time."""
        result: list[dict[str, Any]] = self._request("GET", "/jobs/overview")["jobs"]
        return result

    def job(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/jobs/{job_id}")
        return result

    def execution_config(self, job_id: str) -> dict[str, Any]:
        """The job's execution config as Flink ran it: parallelism, object reuse, restarts."""
        result: dict[str, Any] = self._request("GET", f"/jobs/{job_id}/config")["execution-config"]
        return result

    def job_state(self, job_id: str) -> str:
        return str(self.job(job_id)["state"])

    def root_exception(self, job_id: str) -> str:
        """The job's root exception, as its deepest cause's message; '' when it has none."""
        return exception_text(self._request("GET", f"/jobs/{job_id}/exceptions"))

    def cancel(self, job_id: str) -> None:
        self._request("PATCH", f"/jobs/{job_id}?mode=cancel")

    def find_job(self, job_id: str) -> dict[str, Any] | None:
        """The job's details, or None when the cluster does not know it (e.g. restarted)."""
        try:
            return self.job(job_id)
        except FlinkRestError as exc:
            if " answered 404" in str(exc):
                return None
            raise

    def vertex_metric_names(self, job_id: str, vertex_id: str) -> list[str]:
        """Which metrics a vertex's subtasks report (operator metrics carry the operator name)."""
        rows = self._request("GET", f"/jobs/{job_id}/vertices/{vertex_id}/subtasks/metrics")
        return [str(m["id"]) for m in rows]

    def vertex_metrics(
        self, job_id: str, vertex_id: str, names: Iterable[str], agg: str = "sum"
    ) -> dict[str, float]:
        """Metrics of a vertex aggregated (sum, max or min) over its subtasks."""
        base = f"/jobs/{job_id}/vertices/{vertex_id}/subtasks/metrics"
        wanted = ",".join(urllib.parse.quote(n, safe="") for n in names)
        if not wanted:
            return {}
        rows = self._request("GET", f"{base}?get={wanted}&agg={agg}")
        return {m["id"]: float(m[agg]) for m in rows if agg in m}

    def restarts(self, job_id: str) -> int:
        """How often the job has failed over since it was submitted (from its exception
        history, which a finished job keeps; its metrics are gone once it ends)."""
        data = self._request("GET", f"/jobs/{job_id}/exceptions?maxExceptions=100")
        return len(data.get("exceptionHistory", {}).get("entries", []))

    def job_taskmanagers(self, job_id: str) -> list[str]:
        """The resource ids of the TaskManagers the job's tasks are deployed to now (none
        while its tasks wait for slots, as after a TaskManager was lost)."""
        found: list[str] = []
        for vertex in self.job(job_id).get("vertices", []):
            path = f"/jobs/{job_id}/vertices/{vertex['id']}/taskmanagers"
            for entry in self._request("GET", path).get("taskmanagers", []):
                tm = str(entry.get("taskmanager-id", ""))
                if tm and not tm.startswith("(") and tm not in found:  # "(unassigned)"
                    found.append(tm)
        return found

    def checkpoints(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/jobs/{job_id}/checkpoints")
        return result

    def stop_with_savepoint(self, job_id: str, target: str, timeout: float = 120.0) -> str:
        """Take a savepoint and stop the job; return the savepoint's location."""
        trigger = self._request(
            "POST", f"/jobs/{job_id}/stop", {"targetDirectory": target, "drain": False}
        )["request-id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self._request("GET", f"/jobs/{job_id}/savepoints/{trigger}")
            if status["status"]["id"] == "COMPLETED":
                operation = status.get("operation", {})
                if "location" in operation:
                    return str(operation["location"])
                cause = operation.get("failure-cause", {}).get("stack-trace", "")
                reason = flink_error_message(Exception(cause)) if cause else "no reason given"
                raise FlinkRestError(f"the savepoint failed: {reason}")
            time.sleep(0.5)
        raise FlinkRestError(f"the savepoint of job {job_id} took longer than {timeout:.0f} s")

    def wait_for_state(
        self, job_id: str, states: Iterable[str] = TERMINAL_STATES, timeout: float = 300.0
    ) -> str:
        """Poll until the job reaches one of ``states``; return it. Raise on timeout."""
        wanted = set(states)
        deadline = time.monotonic() + timeout
        state = "UNKNOWN"
        while time.monotonic() < deadline:
            state = self.job_state(job_id)
            if state in wanted:
                return state
            if state in TERMINAL_STATES:
                return state
            time.sleep(0.5)
        raise FlinkRestError(f"job {job_id} was still {state} after {timeout:.0f} s")
