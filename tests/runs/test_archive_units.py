"""How an archive fits among runs (no stack): its record, its lock, whose runs `status NAME`
shows, and that `up` resumes it (through `ArchiveControl`, not a job version's resume)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kappanb.core.names import JOB_NAME
from kappanb.core.schema import parse_columns
from kappanb.exceptions import UnknownJobError
from kappanb.history.archive_report import ArchiveLag
from kappanb.registry.base import now
from kappanb.registry.records import RunRecord, TopicSpec
from kappanb.registry.store import LocalRegistry
from kappanb.runs import lifecycle
from kappanb.runs.archive import archived_topic, lock_of, run_sources, status_scope
from kappanb.versions.archive_ddl import archive_job, archive_lock

TOPIC = TopicSpec("rides.trips.v1", "rides_trips_v1", parse_columns("trip_id STRING"))


def archive_run(registry: LocalRegistry, state: str = "RUNNING") -> RunRecord:
    return registry.add_run(RunRecord(
        id=0, job=archive_job(TOPIC.name), version=0, mode="archive",
        table="archive__rides_trips_v1", group_id="kappanb.archive.rides.trips.v1",
        start="earliest", until=None, flink_job_id="a" * 32, state=state,  # type: ignore[arg-type]
        started_at=now(),
    ))  # fmt: skip


def test_an_archive_run_is_recorded_and_read_back_as_one(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "registry.sqlite")
    registry.put_topic(TOPIC)
    run = archive_run(registry)
    (back,) = registry.runs(archive_job(TOPIC.name))
    assert back == run and back.mode == "archive"
    assert archived_topic(back) == TOPIC.name
    assert run_sources(registry, back) == (TOPIC.name,)
    assert registry.runs("rides") == []  # no job's runs


def test_the_lock_is_shaped_like_a_job_name_that_no_job_can_have() -> None:
    lock = archive_lock("Rides.Trips-v1")
    assert JOB_NAME.fullmatch(lock) and "__" in lock and lock == "archive__rides_trips_v1"
    assert len(archive_lock("t" * 200)) == 48


def test_lock_of_a_run_is_its_jobs_or_its_archives(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "registry.sqlite")
    run = archive_run(registry)
    assert lock_of(run) == "archive__rides_trips_v1"


def test_status_of_a_topic_shows_its_archive_and_of_neither_says_so(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "registry.sqlite")
    registry.put_topic(TOPIC)
    assert status_scope(registry, TOPIC.name) == archive_job(TOPIC.name)
    assert status_scope(registry, TOPIC.table) == archive_job(TOPIC.name)
    with pytest.raises(UnknownJobError, match="unknown job 'nothing'"):
        status_scope(registry, "nothing")


def test_up_resumes_a_suspended_archive_as_an_archive(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "registry.sqlite")
    registry.put_topic(TOPIC)
    run = archive_run(registry, "SUSPENDED")
    assert lifecycle.to_resume(registry.runs(None)) == [run]

    @dataclass
    class Launcher:
        went_on: list[tuple[str, int]] = field(default_factory=list)

        def restore_point(self, record: RunRecord) -> str:
            return "file:///sp/1"

        def submit_statements(self, statements: Any, **kwargs: Any) -> tuple[str, str]:
            self.went_on.append((kwargs["job_name"], len(statements)))
            return "b" * 32, "http://flink/#/job/" + "b" * 32

    @dataclass
    class Endpoints:
        kafka: Any
        catalog: Any

    class Control:
        def __init__(self) -> None:
            from kappanb.kafka.connection import KafkaConnection
            from kappanb.tables.catalog import CatalogLocation

            self.registry, self.launcher = registry, Launcher()
            catalog = CatalogLocation("kappanb", tmp_path / "c.db", tmp_path / "w")
            self.endpoints = Endpoints(KafkaConnection.plain("b:1"), catalog)

        def resume(self, job: str, version: int) -> Any:
            raise AssertionError("an archive has no job version to resume")

    control = Control()
    resumed = lifecycle.resume_one(control, run)  # type: ignore[arg-type]
    assert resumed.state == "RUNNING" and resumed.restored_from == "file:///sp/1"
    # restored: the source and the INSERT, no CREATE TABLE
    assert control.launcher.went_on == [(f"kappanb archive of {TOPIC.name} run #1 -> "
                                         "archive__rides_trips_v1", 2)]  # fmt: skip


def test_lag_says_how_far_behind_per_partition() -> None:
    lag = ArchiveLag(TOPIC.name, {0: 0, 1: 1200})
    assert (lag.total, lag.caught_up) == (1200, False)
    assert str(lag) == "1,200 behind the head (p0 0, p1 1,200)"
    assert ArchiveLag(TOPIC.name, {0: 0, 1: 0}).caught_up
    assert not ArchiveLag(TOPIC.name, {}).caught_up  # nothing known is not caught up


def test_a_failed_submission_leaves_no_record_and_no_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flink took the table's CREATE, then the submission failed: the table and the
    reserved run are gone again, so a new `archive` starts clean."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import LongType, NestedField

    from kappanb.kafka.connection import KafkaConnection
    from kappanb.runs import archive
    from kappanb.tables.catalog import CatalogLocation, table_exists

    registry = LocalRegistry(tmp_path / "registry.sqlite")
    registry.put_topic(TOPIC)
    catalog = CatalogLocation("kappanb", tmp_path / "c.db", tmp_path / "w")
    catalog.init()
    table = "archive__rides_trips_v1"

    class Launcher:
        def reconciled(self, job: str) -> list[RunRecord]:
            return registry.runs(job)

        def submit_statements(self, statements: Any, **kwargs: Any) -> tuple[str, str]:
            assert registry.runs(archive_job(TOPIC.name))[0].state == "SUBMITTING"
            schema = Schema(NestedField(1, "kafka_offset", LongType(), required=False))
            catalog.open().create_table(("default", table), schema)
            raise RuntimeError("the connection to Flink broke")

    @dataclass
    class Endpoints:
        kafka: Any
        catalog: Any

    class Control:
        def __init__(self) -> None:
            self.registry, self.launcher = registry, Launcher()
            self.endpoints = Endpoints(KafkaConnection.plain("b:1"), catalog)

        def check_slots(self, parallelism: int, asked: str) -> None:
            pass

    monkeypatch.setattr(archive, "topic_exists", lambda _kafka, _name: True)
    with pytest.raises(RuntimeError, match="connection to Flink broke"):
        archive.ArchiveControl(Control()).start(TOPIC)  # type: ignore[arg-type]
    assert registry.runs(None) == []
    assert not table_exists(catalog, table)


def test_status_says_how_far_behind_an_archive_is_in_text_and_html(tmp_path: Path) -> None:
    from kappanb.runs.report import RunStatus, StatusReport

    registry = LocalRegistry(tmp_path / "registry.sqlite")
    run = archive_run(registry)
    lag = ArchiveLag(TOPIC.name, {0: 3, 1: 0})
    url = f"http://flink/#/job/running/{run.flink_job_id}"
    report = StatusReport([RunStatus(run, url, 40, 37, "#2 (2 done)", behind=lag)])
    line = f"#{run.id} archive.{TOPIC.name}: 3 behind the head (p0 3, p1 0)"
    assert line in str(report) and line in report._repr_html_()
    assert f'href="{url}"' in report._repr_html_()  # the link to its Flink job
