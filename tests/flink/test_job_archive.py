"""Reading how a job ended from the JobManager's archive (`kappanb.flink.job_archive`)."""

from __future__ import annotations

import json

from kappanb.flink.job_archive import ArchivedJob, parse_archive

JOB = "c7e2ae0888d823f5d58f36259002b757"


def archive(job: str, state: str, exceptions: object = None) -> bytes:
    """An archive as Flink 2.0 writes it: each REST answer as a JSON string."""
    entries = [
        {"path": "/jobs/overview", "json": json.dumps({"jobs": [{"jid": job}]})},
        {"path": f"/jobs/{job}", "json": json.dumps(
            {"jid": job, "state": state, "start-time": 1796492284292, "end-time": 1796492288206}
        )},
    ]  # fmt: skip
    if exceptions is not None:
        entries.append({"path": f"/jobs/{job}/exceptions", "json": json.dumps(exceptions)})
    return json.dumps({"archive": entries}).encode()


def test_a_finished_job_reads_as_finished_with_its_end_time() -> None:
    empty = {"exceptionHistory": {"entries": [], "truncated": False}}
    assert parse_archive(archive(JOB, "FINISHED", empty), JOB) == ArchivedJob(
        state="FINISHED", end_time_ms=1796492288206, root_exception=""
    )


def test_a_failed_job_carries_its_root_cause() -> None:
    trace = (
        "org.apache.flink.runtime.JobException: Recovery is suppressed\n"
        "Caused by: java.lang.IllegalStateException: the topic is gone\n\tat x.y(Z.java:1)"
    )
    failed = {"exceptionHistory": {"entries": [{"stacktrace": trace}], "truncated": False}}
    ended = parse_archive(archive(JOB, "FAILED", failed), JOB)
    assert ended is not None and ended.state == "FAILED"
    assert "the topic is gone" in ended.root_exception
    assert "at x.y" not in ended.root_exception


def test_another_jobs_archive_or_a_foreign_file_says_nothing() -> None:
    assert parse_archive(archive("0" * 32, "FINISHED"), JOB) is None
    assert parse_archive(b"not json", JOB) is None
    assert parse_archive(b'{"archive": [{"path": 1}]}', JOB) is None
    assert parse_archive(json.dumps({"archive": []}).encode(), JOB) is None
