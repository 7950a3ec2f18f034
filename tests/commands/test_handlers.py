"""Handlers that fail before reaching the Workbench (no stack needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kappanb.commands.context import Context
from kappanb.commands.parser import build_parser
from kappanb.commands.run_commands import cmd_job
from kappanb.exceptions import CommandLineError, UnknownJobError
from kappanb.settings import StackSettings
from kappanb.workbench import Workbench


def _job(tmp_path: Path, line: list[str], cell: str | None) -> object:
    args = build_parser("%kappa", raise_errors=True).parse_args(line)
    workbench = Workbench(StackSettings(home=tmp_path / "home"), auto_up=False)
    return cmd_job(workbench, args, Context(cell=cell))


def test_job_text_from_cell_or_file_not_both(tmp_path: Path) -> None:
    sql = tmp_path / "v1.sql"
    sql.write_text("SELECT 1 AS one")
    with pytest.raises(CommandLineError, match="not both"):
        _job(tmp_path, ["job", "j", "--file", str(sql)], "SELECT 2 AS two")
    with pytest.raises(CommandLineError, match="no file"):
        _job(tmp_path, ["job", "j", "--file", str(tmp_path / "missing.sql")], None)
    with pytest.raises(CommandLineError, match="the job has no SQL"):
        _job(tmp_path, ["job", "j"], "  \n")


def test_watch_of_an_unknown_job_names_the_known_ones_and_starts_nothing(tmp_path: Path) -> None:
    workbench = Workbench(StackSettings(home=tmp_path / "home"))  # auto_up on: must not start
    with pytest.raises(UnknownJobError, match="unknown job 'nope'"):
        workbench.watch("nope")
    assert not workbench.stack_status().running
