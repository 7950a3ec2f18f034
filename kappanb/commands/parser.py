"""One argument parser for `%kappa ...` and `kappanb ...`: the same words, the same checks.

Built from the subcommands' declarations (`kappanb.commands.handlers`), once per process
for each program name: parsing leaves no state in a parser, and no declared default is
mutable, so every call can share it.
"""

from __future__ import annotations

import argparse
from functools import cache
from typing import NoReturn

from kappanb.commands.declaration import OneOf, Subcommand
from kappanb.commands.handlers import COMMANDS
from kappanb.exceptions import CommandLineError

SUBCOMMANDS: tuple[str, ...] = tuple(COMMANDS)
"""Every subcommand, in the order `--help` lists them."""


class KappaArgumentParser(argparse.ArgumentParser):
    """Raises `CommandLineError` instead of exiting, when asked to (the magic asks)."""

    raise_errors = False

    def error(self, message: str) -> NoReturn:
        if self.raise_errors:
            raise CommandLineError(f"{self.prog}: {message}\n{self.format_usage().strip()}")
        super().error(message)


def build_parser(prog: str, raise_errors: bool = False) -> KappaArgumentParser:
    """The parser of every declared subcommand, shown as ``prog``: built on the first call,
    the same object after. With ``raise_errors`` a wrong line raises `CommandLineError`
    (for the magic); without, argparse prints the usage and exits with 2 (for the CLI)."""
    return _parser(prog, raise_errors)


@cache
def _parser(prog: str, raise_errors: bool) -> KappaArgumentParser:
    # A class of its own, so subparsers (built from the parser's class) share the setting.
    parser_class: type[KappaArgumentParser] = type(
        "Parser", (KappaArgumentParser,), {"raise_errors": raise_errors}
    )
    parser = parser_class(
        prog=prog, description="Kappa workbench: Kafka log, Flink jobs, Iceberg views."
    )
    parser.add_argument(
        "--profile", default=None, metavar="NAME",
        help="the stack profile to work on (default: KAPPANB_PROFILE, the profile file's "
        "default, or embedded)",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS.values():
        _add(sub, command)
    return parser


def _add(sub: argparse._SubParsersAction[KappaArgumentParser], command: Subcommand) -> None:
    entry = sub.add_parser(command.name, help=command.help, description=command.help)
    for declared in command.arguments:
        if isinstance(declared, OneOf):
            group = entry.add_mutually_exclusive_group()
            for argument in declared.arguments:
                group.add_argument(*argument.names, **argument.options)
        else:
            entry.add_argument(*declared.names, **declared.options)
