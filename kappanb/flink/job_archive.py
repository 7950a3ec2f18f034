"""A job the JobManager archived when it ended (``jobmanager.archive.fs.dir``).

Flink writes one JSON file per globally terminated job, named by its id: the REST answers
of that job (``/jobs/<id>``, ``/jobs/<id>/exceptions``, ...) as ``{"archive": [{"path",
"json"}, ...]}``. A JobManager that restarted without high availability no longer knows the
jobs of its previous life; their archives still say how each ended, so a replay that
finished before the restart is not taken for a lost run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kappanb.flink.errors import flink_error_message


@dataclass(frozen=True)
class ArchivedJob:
    """How an archived job ended."""

    state: str
    """Flink's terminal state: FINISHED, CANCELED or FAILED."""
    end_time_ms: int | None = None
    """When it ended, by the JobManager's clock (None when the archive does not say)."""
    root_exception: str = ""
    """The deepest cause's message of a failed job ('' when it has none)."""


def exception_text(exceptions: dict[str, Any]) -> str:
    """The root exception in an answer of ``/jobs/<id>/exceptions``, as its deepest cause's
    message; '' when there is none."""
    history = exceptions.get("exceptionHistory", {}).get("entries", [])
    text = history[0].get("stacktrace", "") if history else exceptions.get("root-exception", "")
    return flink_error_message(Exception(str(text))) if text else ""


def parse_archive(content: bytes, job_id: str) -> ArchivedJob | None:
    """The ending of ``job_id`` in its archive file; None when the file does not hold it
    (not Flink's archive format, or another job's)."""
    try:
        entries = json.loads(content)["archive"]
        answers = {str(e["path"]): json.loads(e["json"]) for e in entries}
    except (ValueError, KeyError, TypeError):
        return None
    job = answers.get(f"/jobs/{job_id}")
    if not isinstance(job, dict) or not isinstance(job.get("state"), str):
        return None
    exceptions = answers.get(f"/jobs/{job_id}/exceptions")
    cause = exception_text(exceptions) if isinstance(exceptions, dict) else ""
    end = job.get("end-time")
    ended = end if isinstance(end, int) and end > 0 else None
    return ArchivedJob(state=job["state"], end_time_ms=ended, root_exception=cause)
