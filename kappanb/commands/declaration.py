"""How a subcommand is declared: once, beside its handler (as click keeps a command's
options beside its function).

    @COMMANDS.subcommand(
        "stop", "stop a running version",
        arg("name", completes="job"),
        arg("version", type=version, completes="version"),
        arg("--savepoint", action="store_true", help="take a savepoint to resume from"),
    )
    def cmd_stop(wb, args, ctx): ...

That one declaration is all there is of a subcommand: parser.py builds its argparse entry
from it (each `arg` is an `add_argument` call as written, help texts included), the magic
and the CLI call its handler, and vocabulary.py reads completion's words from it (its long
options; which names its positionals take: a job, a version of it, a topic).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kappanb.commands.context import Context
from kappanb.workbench import Workbench

Handler = Callable[[Workbench, argparse.Namespace, Context], object]
"""What runs a subcommand: the API, the parsed arguments, the front end's context."""

Completes = Literal["job", "version", "topic"]
"""The names a positional argument takes, which completion offers: a job, a version of
the job named before it, a declared topic."""


@dataclass(frozen=True)
class Arg:
    """One argument of a subcommand: ``add_argument(*names, **options)``."""

    names: tuple[str, ...]
    options: Mapping[str, Any]
    completes: Completes | None = None

    @property
    def positional(self) -> bool:
        return not self.names[0].startswith("-")


def arg(*names: str, completes: Completes | None = None, **options: Any) -> Arg:
    """An argument as argparse's ``add_argument`` takes it, and what names it completes.

    A default must not be a list, dict or set: the parser is built once per process, so
    argparse would hand the same object to every call (a positional ``nargs="*"`` with
    ``default=None`` gets a fresh ``[]`` each time)."""
    if isinstance(options.get("default"), list | dict | set):
        raise ValueError(f"{names[0]}: a mutable default would be shared between calls")
    return Arg(names, options, completes)


@dataclass(frozen=True)
class OneOf:
    """Options that exclude each other (argparse's mutually exclusive group)."""

    arguments: tuple[Arg, ...]


def one_of(*arguments: Arg) -> OneOf:
    return OneOf(arguments)


@dataclass(frozen=True)
class Subcommand:
    """A subcommand: its word, its help text, its arguments and the handler that runs it."""

    name: str
    help: str
    handler: Handler
    arguments: tuple[Arg | OneOf, ...] = ()
    cell: bool = False
    """Whether `%%kappa NAME` takes a cell body (the job's SQL, a query)."""

    def each_argument(self) -> Iterator[Arg]:
        for entry in self.arguments:
            yield from entry.arguments if isinstance(entry, OneOf) else (entry,)

    def long_options(self) -> list[str]:
        """Its ``--options``, with the ``--help`` argparse gives every subcommand."""
        declared = {n for a in self.each_argument() for n in a.names if n.startswith("--")}
        return sorted(declared | {"--help"})

    def completes_at(self, position: int) -> Completes | None:
        """The names its positional argument at ``position`` (0 the first) takes, if any."""
        positionals = [a for a in self.each_argument() if a.positional]
        return positionals[position].completes if position < len(positionals) else None


class CommandTable(Mapping[str, Subcommand]):
    """The declared subcommands by name, in the order they were declared (which is the
    order `--help` lists them and completion offers them)."""

    def __init__(self) -> None:
        self._declared: dict[str, Subcommand] = {}

    def subcommand(
        self, name: str, help: str, *arguments: Arg | OneOf, cell: bool = False
    ) -> Callable[[Handler], Handler]:
        """Declare the subcommand ``name`` that the decorated function runs."""

        def declare(handler: Handler) -> Handler:
            if name in self._declared:
                raise ValueError(f"subcommand {name!r} is declared twice")
            self._declared[name] = Subcommand(name, help, handler, arguments, cell)
            return handler

        return declare

    @classmethod
    def merged(cls, *tables: CommandTable) -> CommandTable:
        """One table of the subcommands of ``tables``, in their order, then each's own."""
        table = cls()
        for part in tables:
            for name, declared in part.items():
                if name in table._declared:
                    raise ValueError(f"subcommand {name!r} is declared twice")
                table._declared[name] = declared
        return table

    def taking(self, names: Completes, position: int) -> frozenset[str]:
        """The subcommands whose positional at ``position`` takes ``names``."""
        return frozenset(c.name for c in self.values() if c.completes_at(position) == names)

    def __getitem__(self, name: str) -> Subcommand:
        return self._declared[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._declared)

    def __len__(self) -> int:
        return len(self._declared)
