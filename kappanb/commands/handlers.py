"""Every subcommand of the `%kappa` magics and the `kappanb` CLI, each declared once: its
word, help text and arguments (declaration.py) above the function that runs it, in
`stack_commands`, `run_commands` and `serving_commands` (imported here in the order
`--help` lists them).

A handler takes the parsed arguments and a `Context` (the cell text, and how to find a
named object), calls the Workbench and returns what it returned.
"""

from __future__ import annotations

from collections.abc import Mapping

from kappanb.commands import run_commands, serving_commands, stack_commands
from kappanb.commands.declaration import CommandTable, Handler

COMMANDS = CommandTable.merged(
    stack_commands.COMMANDS, run_commands.COMMANDS, serving_commands.COMMANDS
)
"""The declared subcommands, by name, in the order `--help` lists them: the parser, the
handlers and completion read these."""

HANDLERS: Mapping[str, Handler] = {name: c.handler for name, c in COMMANDS.items()}
"""The handler of each subcommand, by name (what `args.command` says)."""
