"""One declaration per subcommand is the single source of the parser, the handlers, the
help and completion's words; the parser is built once per process and safe to share."""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from kappanb.commands import parser as parser_module
from kappanb.commands.declaration import CommandTable, arg
from kappanb.commands.handlers import COMMANDS, HANDLERS
from kappanb.commands.parser import SUBCOMMANDS, build_parser
from kappanb.commands.vocabulary import TAKES_JOB, TAKES_TOPIC, TAKES_VERSION, vocabulary
from kappanb.exceptions import CommandLineError
from kappanb.magics.completion import KnownNames, complete
from kappanb.registry.store import LocalRegistry
from kappanb.settings import StackSettings
from kappanb.workbench import Workbench
from tests.magics.conftest import new_shell

NAMES = KnownNames(
    topics=lambda: ["pay.v1"], jobs=lambda: ["daily"], versions=lambda _job: ["v1", "v2"]
)


def _printed(prog: str, argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        build_parser(prog).parse_args(argv)
    return out.getvalue()


def _entries(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_declared_subcommand_is_in_the_parser_the_help_the_handlers_and_completion(
    tmp_path: Path,
) -> None:
    declared = list(COMMANDS)
    assert list(_entries(build_parser("%kappa"))) == declared == list(SUBCOMMANDS)
    assert list(HANDLERS) == declared
    words = vocabulary(LocalRegistry(tmp_path / "r.sqlite"))
    assert words.subcommands == declared == complete("%kappa ", NAMES)
    top_help = " ".join(_printed("%kappa", ["--help"]).split())
    for name, command in COMMANDS.items():
        assert HANDLERS[name] is command.handler
        assert f"{name} {command.help}" in top_help
        own_help = " ".join(_printed("%kappa", [name, "--help"]).split())
        assert own_help.startswith(f"usage: %kappa {name} ")
        assert command.help in own_help
        for argument in command.each_argument():
            assert argument.names[-1].lstrip("-") in own_help.replace("_", "-"), name
        assert words.flags[name] == command.long_options()
        assert complete(f"%kappa {name} --", NAMES) == command.long_options()


def test_what_a_positional_completes_is_read_from_its_declaration() -> None:
    for name, command in COMMANDS.items():
        first, second = command.completes_at(0), command.completes_at(1)
        assert (name in TAKES_JOB) == (first == "job")
        assert (name in TAKES_TOPIC) == (first == "topic")
        assert (name in TAKES_VERSION) == (second == "version")
        expected = {"job": ["daily"], "topic": ["pay.v1"], None: []}[first]
        assert complete(f"%kappa {name} ", NAMES) == expected, name
        after_job = ["v1", "v2"] if first == "job" and second == "version" else []
        assert complete(f"%kappa {name} daily ", NAMES) == after_job, name
    assert TAKES_JOB >= TAKES_VERSION and "diff" in TAKES_VERSION and "produce" in TAKES_TOPIC
    assert "retention" in TAKES_TOPIC and complete("%kappa retention ", NAMES) == ["pay.v1"]
    assert "--window" in complete("%kappa retention pay.v1 --", NAMES)
    assert "--retention" in complete("%kappa topic pay.v2 --re", NAMES)


def test_only_the_declared_cell_subcommands_take_a_cell() -> None:
    assert {name for name, c in COMMANDS.items() if c.cell} == {"job", "sql"}


def test_a_subcommand_is_declared_once_and_shares_no_mutable_default() -> None:
    table = CommandTable()

    @table.subcommand("hello", "say hello", arg("name", completes="job"), arg("--loud"))
    def hello(*_args: object) -> object:
        return "hello"

    assert table["hello"].long_options() == ["--help", "--loud"]
    assert table.taking("job", position=0) == {"hello"}
    with pytest.raises(ValueError, match="declared twice"):
        table.subcommand("hello", "again")(hello)
    with pytest.raises(ValueError, match="shared between calls"):
        arg("versions", nargs="*", default=[])


def test_the_parser_is_built_once_per_process(tmp_path: Path) -> None:
    parser_module._parser.cache_clear()
    workbench = Workbench(StackSettings(home=tmp_path / "home"), auto_up=False)
    shell = new_shell(workbench)
    try:
        for _ in range(3):
            shell.run_line_magic("kappa", "jobs")
            shell.run_line_magic("kappa", "topics")
    finally:
        InteractiveShell.clear_instance()
    assert parser_module._parser.cache_info().misses == 1  # the magic's one parser
    assert build_parser("%kappa", raise_errors=True) is build_parser("%kappa", True)
    assert build_parser("kappanb") is build_parser("kappanb", raise_errors=False)


def test_a_shared_parser_starts_each_call_afresh() -> None:
    parse = build_parser("%kappa", raise_errors=True).parse_args
    first = parse(shlex.split("watch daily"))
    first.versions.append(7)  # a handler changing what it got changes nothing later
    assert parse(shlex.split("watch daily")).versions == []
    assert parse(shlex.split("watch daily v1 v2")).versions == [1, 2]
    with pytest.raises(CommandLineError, match="'vX' is not a version"):
        parse(shlex.split("stop daily vX"))
    assert _printed("%kappa", ["stop", "--help"]).startswith("usage: %kappa stop")
    again = parse(shlex.split("stop daily v2 --savepoint"))
    assert (again.command, again.name, again.version, again.savepoint) == (
        "stop", "daily", 2, True,
    )  # fmt: skip
    assert not hasattr(again, "versions")


def test_the_api_does_not_import_the_commands() -> None:
    """commands calls the Workbench; the Workbench must not import commands back."""
    code = (
        "import sys, kappanb.workbench\n"
        "print(sorted(m for m in sys.modules if m.startswith('kappanb.commands')))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"
