"""`compact` through the API, the magic and the CLI on a home whose stack is down (it needs
the catalog only): a hand-made upsert table as a job's output; the wrong ways refused with a
clear message and nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from pyiceberg.table import Table

from kappanb.cli import main
from kappanb.core.schema import parse_columns
from kappanb.exceptions import DurationError, UnknownJobError, UnknownVersionError
from kappanb.registry.records import JobVersion, RunRecord
from kappanb.serving.compacting import CompactResult
from kappanb.tables.catalog import DEFAULT_NAMESPACE, init_catalog, open_catalog
from kappanb.tables.merge_read import read_snapshot
from kappanb.tables.rewrite_commit import live_files
from kappanb.workbench import Workbench
from tests.helpers import settings_for
from tests.magics.conftest import new_shell
from tests.tables.upsert_tables import ORACLE, SCHEMA, age

JOB = "upserts"


def _table(wb: Workbench, version: int) -> Table:
    catalog = open_catalog(wb.stack.endpoints().catalog)
    return catalog.load_table((DEFAULT_NAMESPACE, f"{JOB}__v{version}"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workbench]:
    """Two versions of JOB that ran, each with an aged upsert table; nothing serves."""
    settings = settings_for(tmp_path / "home")
    monkeypatch.setenv("KAPPANB_HOME", str(settings.home))
    wb = Workbench(settings, auto_up=False)
    init_catalog(wb.stack.endpoints().catalog)
    catalog = open_catalog(wb.stack.endpoints().catalog)
    for version in (1, 2):
        table = f"{JOB}__v{version}"
        age(catalog.create_table((DEFAULT_NAMESPACE, table), SCHEMA,
                                 properties={"format-version": "2"}))  # fmt: skip
        wb.registry.add_version(JobVersion(
            job=JOB, version=0, kind="sql", text=f"SELECT k, n -- v{version}",
            digest=f"d{version}", created_at="", output=parse_columns("k STRING, n BIGINT"),
            key=("k",), updating=True,
        ))  # fmt: skip
        wb.registry.add_run(RunRecord(
            id=0, job=JOB, version=version, mode="live", table=table, group_id=f"g{version}",
            start="earliest", until=None, flink_job_id=f"{version:032x}", state="RUNNING",
            started_at="2026-12-05T00:00:00",
        ))  # fmt: skip
    yield wb
    assert not wb.stack_status().running  # compact never started the stack


def _snapshots(wb: Workbench) -> list[list[int]]:
    return [[s.snapshot_id for s in _table(wb, v).snapshots()] for v in (1, 2)]


def test_compact_defaults_to_the_newest_run_and_reports(home: Workbench) -> None:
    untouched = _snapshots(home)[0]
    done = home.compact(JOB)
    assert isinstance(done, CompactResult) and (done.job, done.version) == (JOB, 2)
    assert (done.compacted.files_before, done.compacted.delete_files_before) == (3, 3)
    assert (done.compacted.files_after, done.compacted.delete_files_after) == (1, 0)
    assert done.expired.snapshots == 0  # all younger than a day
    table = _table(home, 2)
    assert live_files(table, table.current_snapshot()).deletes == []
    assert sorted((r["k"], r["n"]) for r in read_snapshot(table).to_pylist()) == ORACLE
    assert _snapshots(home)[0] == untouched  # v1's table is not v2's
    text, html = str(done), done._repr_html_()
    assert "compacted upserts__v2 (upserts v2)" in text and "delete files  3" in text
    assert "0 commit(s) lost" in text and "<table" in html and "3 rows rewritten" in html


def test_the_wrong_ways_are_refused_and_change_nothing(home: Workbench) -> None:
    before = _snapshots(home)
    with pytest.raises(UnknownJobError, match="unknown job 'nope'; known jobs: upserts"):
        home.compact("nope")
    with pytest.raises(UnknownVersionError, match="upserts has no v9; its versions are v1, v2"):
        home.compact(JOB, 9)
    with pytest.raises(DurationError, match="'soon' is not a grace period"):
        home.compact(JOB, 1, retain="soon")
    assert _snapshots(home) == before


def test_the_magic_and_the_cli_delegate(
    home: Workbench, capsys: pytest.CaptureFixture[str]
) -> None:
    shell = new_shell(home)
    with pytest.raises(UsageError, match="upserts has no v9"):
        shell.run_line_magic("kappa", f"compact {JOB} v9")
    done = shell.run_line_magic("kappa", f"compact {JOB} v1 --retain 2d")
    assert isinstance(done, CompactResult) and done.version == 1
    assert done.retention_ms == 2 * 86_400_000 and done.compacted.delete_files_after == 0

    before = _snapshots(home)
    assert main(["compact", "nope"]) == 1
    assert "unknown job 'nope'" in capsys.readouterr().err
    assert main(["compact", JOB, "v2", "--retain", "0s"]) == 0
    out = capsys.readouterr().out
    assert "compacted upserts__v2" in out and "snapshot(s) older than 0 ms expired" in out
    after = _snapshots(home)
    assert after[0] == before[0] and len(after[1]) == 1  # v2: only the compacted snapshot


def test_compact_defaults_to_the_served_version(home: Workbench) -> None:
    home.registry.switch(JOB, 1, f"{JOB}__v1", kind="first live run", expect_from=None)
    untouched = _snapshots(home)[1]
    assert home.compact(JOB).version == 1
    assert _snapshots(home)[1] == untouched
