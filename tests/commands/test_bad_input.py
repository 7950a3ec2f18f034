"""Wrong input to every subcommand, refused before kappanb needs the stack: the error class,
a message that says what to do, and nothing created (registry rows, files in the home).

The stack is never started here: `Workbench.endpoints` fails the test if a case reaches it.
The cases that need Kafka or Flink to be found out are in test_bad_input_stack.py.
"""

from __future__ import annotations

import argparse
import io
import shlex
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kappanb.cli import main
from kappanb.commands.context import Context
from kappanb.commands.handlers import HANDLERS
from kappanb.commands.parser import SUBCOMMANDS, build_parser
from kappanb.core.schema import Column, parse_columns
from kappanb.registry.records import JobVersion, TopicSpec
from kappanb.registry.store import LocalRegistry
from kappanb.settings import StackSettings
from kappanb.workbench import Workbench
from tests.commands.bad_input_cases import CASES, Case
from tests.magics.conftest import new_shell

pytestmark = pytest.mark.faults

UNIT = [c for c in CASES if not c.stack]


def run_line(wb: Workbench, case: Case) -> object:
    """What `%kappa LINE` (or `%%kappa LINE` over a cell) does, short of the UsageError."""
    args = build_parser("%kappa", raise_errors=True).parse_args(shlex.split(case.line))
    lookup = case.variables.__getitem__ if case.variables else Context().lookup
    return HANDLERS[args.command](wb, args, Context(cell=case.cell, lookup=lookup))


def registry_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the registry's tables (topics, versions, runs, serving switches)."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables}


def home_files(home: Path) -> set[str]:
    """The files of the home, but SQLite's journals and the per-job lock files."""
    return {
        str(p.relative_to(home))
        for p in home.rglob("*")
        if not p.name.endswith(("-wal", "-shm", "-journal")) and "locks" not in p.parts
    }


def seed(registry: LocalRegistry) -> None:
    """The registry `bad_input_cases.SEEDED` describes."""
    pay = parse_columns("payment_id STRING, merchant_id STRING, amount BIGINT, ts TIMESTAMP(3)")
    registry.put_topic(TopicSpec("pay.v1", "pay_v1", pay, event_time="ts"))
    merchants = parse_columns("merchant_id STRING, name STRING")
    registry.put_topic(TopicSpec("merchants.v1", "merchants", merchants, compact=True,
                                 key="merchant_id"))  # fmt: skip
    out = (Column("merchant_id", "STRING"), Column("n", "BIGINT NOT NULL"))
    for job, sources in (("counts", ("pay.v1",)), ("joined", ("pay.v1", "merchants.v1")),
                         ("fresh", ("pay.v1",))):  # fmt: skip
        draft = JobVersion(job, 0, "sql", "SELECT ...", f"digest-{job}", "", output=out,
                           key=("merchant_id",), updating=True, sources=sources)  # fmt: skip
        registry.add_version(draft)
    registry.switch("counts", 1, "counts__v1", kind="first live run", expect_from=None)


def _no_stack(*_args: object) -> object:
    raise AssertionError("this bad input reached the stack: it must be refused before")


@pytest.fixture
def workbench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workbench:
    monkeypatch.setattr(Workbench, "endpoints", _no_stack)
    wb = Workbench(StackSettings(home=tmp_path / "home"))  # auto_up on, as for a user
    seed(wb.registry)
    return wb


@pytest.mark.parametrize("case", UNIT, ids=[f"{c.line[:60]}|{c.cell!r:.20}" for c in UNIT])
def test_bad_input_is_refused_with_advice_and_creates_nothing(
    workbench: Workbench, case: Case
) -> None:
    home = workbench.settings.home
    rows, files = registry_rows(workbench.registry.path), home_files(home)
    with pytest.raises(case.error) as refused:
        run_line(workbench, case)
    assert type(refused.value) is case.error  # the class itself, not a broader one
    message = str(refused.value)
    assert case.says in message
    assert "Traceback" not in message and "at org.apache" not in message
    assert registry_rows(workbench.registry.path) == rows
    assert home_files(home) == files
    assert not workbench.stack_status().running


def _subcommands() -> set[str]:
    parser = build_parser("kappanb")
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(sub.choices)


def test_every_subcommand_has_bad_input_cases() -> None:
    """A new subcommand fails here until it has a case in bad_input_cases.py."""
    assert _subcommands() == set(SUBCOMMANDS)
    missing = _subcommands() - {c.command for c in CASES}
    assert not missing, f"no bad-input case for: {', '.join(sorted(missing))}"


def test_the_cases_are_distinct_and_each_names_a_real_error() -> None:
    keys = [(c.line, c.cell) for c in CASES]
    assert len(keys) == len(set(keys))
    for case in CASES:
        assert case.says.strip(), case.line
        assert case.command in SUBCOMMANDS, case.line


# ---- the same refusals through the magic: one UsageError line, no traceback ------------
MAGIC = [
    ("replay counts --from yesterday", None, "is not a position: use earliest"),
    ("job 'x; DROP TABLE y'", "SELECT 1", "not a valid job name"),
    ("job counts", "hello world", "must be the job's SELECT"),
    ("job counts", "  \n", "write a SELECT in the cell below"),
    ("job counts", "", "the cell body is empty"),  # IPython's own refusal
    ("status", "SELECT 1", "takes no cell body; use %kappa status"),
    ("run counts --quiet --watch", None, "not allowed with argument --quiet"),
    ("promote counts v1", None, "already serves v1"),
    ("replya counts", None, "invalid choice: 'replya'"),
    ("topic \"it's\" --schema 'a STRING'", None, "not a valid topic name"),
    ("produce pay.v1 missing", None, "no variable 'missing' in the notebook: define it first"),
    ("archive nope.v1", None, "unknown topic 'nope.v1'"),
    ("forget pay.v1 --where \"merchant_id = 'm1'\"", None, "`archive pay.v1` first"),
]


@pytest.mark.parametrize(("line", "cell", "says"), MAGIC)
def test_the_magic_shows_one_usage_error(
    workbench: Workbench, line: str, cell: str | None, says: str
) -> None:
    shell = new_shell(workbench)
    try:
        rows = registry_rows(workbench.registry.path)
        with pytest.raises(UsageError) as refused:
            if cell is None:
                shell.run_line_magic("kappa", line)
            else:
                shell.run_cell_magic("kappa", line, cell)
        assert says in str(refused.value)
        error = refused.value  # shown without a traceback of what led to it
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__
        assert registry_rows(workbench.registry.path) == rows
    finally:
        InteractiveShell.clear_instance()


# ---- and through the CLI: exit code, one line on stderr --------------------------------
CLI = [
    (["replay", "counts", "--from", "yesterday"], 1, "is not a position: use earliest"),
    (["topic", "pay`ments", "--schema", "a STRING"], 1, "not a valid topic name"),
    (["promote", "counts", "v1"], 1, "already serves v1"),
    (["rollback", "counts"], 1, "`promote counts vN`"),
    (["job", "counts"], 1, "must be the job's SELECT"),  # stdin: "hello world"
    (["sql"], 1, "the query is empty"),  # stdin: blank
    (["show", "counts", "v0"], 2, "'v0' is not a version: write v1, v2"),
    (["run", "counts", "--quiet", "--watch"], 2, "not allowed with argument --quiet"),
    (["archive", "nope.v1"], 1, "unknown topic 'nope.v1'"),
    (["forget", "pay.v1", "--where", "1 = 1"], 1, "names no column"),
    (["forget", "pay.v1"], 2, "required: --where"),
]


@pytest.mark.parametrize(("argv", "code", "says"), CLI, ids=[" ".join(c[0]) for c in CLI])
def test_the_cli_exits_non_zero_with_one_line(
    workbench: Workbench, argv: list[str], code: int, says: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("KAPPANB_HOME", str(workbench.settings.home))
    monkeypatch.setattr("sys.stdin", io.StringIO("hello world" if argv[0] == "job" else " \n"))
    rows = registry_rows(workbench.registry.path)
    try:
        got = main(argv)
    except SystemExit as exit_:  # argparse's own usage errors
        got = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert got == code
    assert says in err and "Traceback" not in err
    lines = err.strip().splitlines()
    if code == 1:
        assert lines == [f"kappanb: error: {lines[0].removeprefix('kappanb: error: ')}"]
    else:  # usage line(s), then the one error line
        assert lines[-1].startswith(f"kappanb {argv[0]}: error: ")
    assert registry_rows(workbench.registry.path) == rows
