"""`%kappa SUBCOMMAND ...`, `%%kappa job NAME` and `%%kappa sql` (cells). Only parsing
and delegation here.

Errors kappanb raises on purpose become `UsageError`, which Jupyter shows as one
message without a traceback.
"""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from kappanb.commands.context import Context
from kappanb.commands.handlers import COMMANDS, HANDLERS
from kappanb.commands.parser import build_parser
from kappanb.exceptions import KappaError
from kappanb.magics.completion import KnownNames, complete
from kappanb.workbench import Workbench


@magics_class
class KappaMagics(Magics):
    """Holds one Workbench per kernel; every call goes through `HANDLERS`."""

    def __init__(self, shell: Any, workbench: Workbench | None = None) -> None:
        super().__init__(shell)
        self._workbench = workbench

    @property
    def workbench(self) -> Workbench:
        if self._workbench is None:
            self._workbench = Workbench(say=_say)
        return self._workbench

    @line_cell_magic
    def kappa(self, line: str, cell: str | None = None) -> Any:
        """Kappa workbench: `%kappa --help` lists the subcommands."""
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%kappa: cannot parse the line ({exc})") from None
        try:
            args = build_parser("%kappa", raise_errors=True).parse_args(argv)
        except SystemExit:  # --help printed its text
            return None
        except KappaError as exc:
            raise UsageError(str(exc)) from None
        if cell is not None and not COMMANDS[args.command].cell:
            raise UsageError(f"%%kappa {args.command} takes no cell body; use %kappa {line}")
        # The body's lines numbered as the notebook shows them (the %%kappa line is line
        # 1): an error's "line N of the cell" is the line the user sees. Leading blank
        # lines change no version (its text and digest are stripped).
        context = Context(
            cell=None if cell is None else "\n" + cell, lookup=self._variable, say=_say,
            present_watch=_panel,
            switch_profile=self._switch_profile,
        )  # fmt: skip
        try:
            bench = self.workbench if args.profile is None else Workbench(
                profile=args.profile, say=_say)  # fmt: skip
            return HANDLERS[args.command](bench, args, context)
        except KappaError as exc:
            refused = str(exc)
        # Raised outside the except block, the UsageError IPython keeps (sys.last_value)
        # has no context: the refused call's frames, and a Kafka client in one of them,
        # are freed, not kept retrying the broker (after `down`) for the kernel's life.
        raise UsageError(refused)

    def _switch_profile(self, name: str) -> Workbench:
        """`%kappa profile NAME`: this notebook's commands work on NAME's stack from now."""
        self._workbench = Workbench(profile=name, say=_say)
        return self._workbench

    def known_names(self) -> KnownNames:
        registry = self.workbench.registry
        return KnownNames(
            topics=lambda: [t.name for t in registry.topics()],
            jobs=lambda: sorted({v.job for v in registry.versions()}),
            versions=lambda job: [v.label for v in registry.versions(job)],
        )

    def complete(self, _shell: Any, event: Any) -> list[str]:
        """IPython's `complete_command` hook for `%kappa` and `%%kappa`."""
        return complete(str(event.text_until_cursor), self.known_names())

    def _variable(self, name: str) -> Any:
        namespace = self.shell.user_ns if self.shell is not None else {}
        if name not in namespace:
            raise UsageError(f"no variable {name!r} in the notebook: define it first")
        return namespace[name]


def _panel(watch: Any) -> Any:
    from kappanb.widgets.watch_panel import WatchPanel

    return WatchPanel(watch)


def _say(msg: str) -> None:
    print(msg, flush=True)
