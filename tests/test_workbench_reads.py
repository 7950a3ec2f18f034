"""Reads need only the catalog's files: `read`, `sql` and `diff` of ended runs work on a
home whose stack is not running, and start none of it.

The home here never had a stack: its Iceberg tables are made with pyiceberg (data files
written by pyarrow and added), its registry holds the job's versions and runs, and its
ports are free ones chosen for the test, so a service started by mistake would be seen.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from IPython.core.interactiveshell import InteractiveShell

from kappanb.cli import main
from kappanb.core.schema import parse_columns
from kappanb.exceptions import StackNotRunningError
from kappanb.registry.records import JobVersion, RunRecord
from kappanb.tables.catalog import DEFAULT_NAMESPACE, init_catalog, open_catalog
from kappanb.workbench import Workbench
from tests.helpers import settings_for
from tests.magics.conftest import new_shell

JOB, ROWS = "totals", 834
PORTS = ("kafka", "kafka_controller", "flink_rest", "flink_rpc")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def totals(version: int) -> pa.Table:
    """834 merchants; v2 differs from v1 in every tenth total."""
    ids = [f"m{i:04d}" for i in range(ROWS)]
    amounts = [i * 100 + (7 if version == 2 and i % 10 == 0 else 0) for i in range(ROWS)]
    return pa.table({"merchant_id": ids, "total": pa.array(amounts, pa.int64())})


def add_version_with_output(wb: Workbench, version: int, folder: Path) -> RunRecord:
    """A version of JOB, its table (data added as a parquet file), a finished run."""
    table = f"{JOB}__v{version}"
    catalog = open_catalog(wb.stack.endpoints().catalog)
    rows = totals(version)
    iceberg = catalog.create_table((DEFAULT_NAMESPACE, table), schema=rows.schema)
    path = folder / f"{table}.parquet"
    pq.write_table(rows, path)
    iceberg.add_files([str(path)])
    wb.registry.add_version(JobVersion(
        job=JOB, version=0, kind="sql", text=f"SELECT ... -- v{version}", digest=f"d{version}",
        created_at="", output=parse_columns("merchant_id STRING, total BIGINT"),
        key=("merchant_id",), updating=True,
    ))  # fmt: skip
    return wb.registry.add_run(RunRecord(
        id=0, job=JOB, version=version, mode="replay", table=table, group_id=f"g{version}",
        start="earliest", until="latest", flink_job_id=f"{version:032x}", state="FINISHED",
        started_at="2026-11-21T00:00:00",
    ))  # fmt: skip


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workbench]:
    """A Workbench that would start its stack if asked (auto_up), on a home whose stack
    is down; after the test, nothing of the stack may have started."""
    ports = {name: free_port() for name in PORTS}
    settings = settings_for(tmp_path / "home").with_ports(**ports)
    monkeypatch.setenv("KAPPANB_HOME", str(settings.home))
    for name, port in ports.items():  # the CLI's settings come from the environment
        monkeypatch.setenv(f"KAPPANB_{name.upper()}_PORT", str(port))
    said: list[str] = []
    wb = Workbench(settings, say=said.append)
    init_catalog(wb.stack.endpoints().catalog)
    for version in (1, 2):
        add_version_with_output(wb, version, tmp_path)
    yield wb
    assert not any("starting" in line for line in said), said
    assert not wb.stack_status().running
    assert list(wb.stack.layout.run_dir.glob("*.pid")) == []  # none, or no run/ at all
    assert [p for p in ports.values() if listening(p)] == []


def test_read_returns_every_row_with_the_stack_down(offline: Workbench) -> None:
    frame = offline.read(JOB, 1).collect()
    assert frame.height == ROWS
    assert frame.equals(pl.from_arrow(totals(1)))  # type: ignore[arg-type]
    assert offline.read(JOB).collect().height == ROWS  # no alias yet: the newest run's table


def test_sql_reads_the_outputs_with_the_stack_down(offline: Workbench) -> None:
    result = offline.sql(f"SELECT count(*) AS n, sum(total) AS s FROM {JOB}__v1")
    assert result.row(0) == (ROWS, sum(i * 100 for i in range(ROWS)))


def test_the_magic_returns_the_whole_output_and_shows_its_first_rows(offline: Workbench) -> None:
    shell = new_shell(offline)
    try:
        shell.run_cell(f"r = %kappa read {JOB} v1")
        r = shell.user_ns["r"]
        assert isinstance(r, pl.DataFrame) and r.height == ROWS
        assert r.equals(pl.from_arrow(totals(1)))  # type: ignore[arg-type]
        shown, _ = shell.display_formatter.format(r)  # what Jupyter shows
        html, text = shown["text/html"], shown["text/plain"]
        assert f"{ROWS} rows, first 20 shown" in html and f"{ROWS} rows, first 20 shown" in text
        assert html.count("<tr>") == 2 + 20  # the two header rows (names, types), 20 rows
        assert "m0019" in html and "m0020" not in html
        limited = shell.run_line_magic("kappa", f"read {JOB} v1 --limit 5")
        assert limited.height == 5 and "5 rows" in repr(limited)
    finally:
        InteractiveShell.clear_instance()


def test_the_cli_prints_every_row_with_the_stack_down(
    offline: Workbench, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["read", JOB, "v1"]) == 0
    out = capsys.readouterr().out
    assert "m0000" in out and f"m{ROWS - 1:04d}" in out and "…" not in out


def test_diff_of_ended_runs_needs_no_stack(offline: Workbench) -> None:
    diff = offline.diff(JOB, 1, 2)
    changed = sorted(diff.changed["merchant_id"].to_list())
    assert changed == [f"m{i:04d}" for i in range(0, ROWS, 10)]
    assert diff.same_count == ROWS - len(changed)


def test_diff_of_a_run_in_flight_says_it_needs_the_stack_and_starts_nothing(
    offline: Workbench,
) -> None:
    run = offline.runs(JOB)[-1]
    offline.registry.update_run(run.id, state="RUNNING")  # the stack died under it
    with pytest.raises(StackNotRunningError, match=rf"{JOB} v2's run #{run.id} was RUNNING"):
        offline.diff(JOB, 1, 2)
    offline.registry.update_run(run.id, state="SUSPENDED")
    with pytest.raises(StackNotRunningError, match=r"suspended by `down`.* `up` resumes it"):
        offline.diff(JOB, 1, 2)
