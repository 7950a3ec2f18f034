"""What a command reads besides its arguments: the `Context` a front end gives it (the
cell, how to find a named object, how to show a watch or a run), and the files and stdin
that stand in for a notebook's cell and variables in a shell.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kappanb.exceptions import CommandLineError


def _no_lookup(name: str) -> Any:
    raise CommandLineError(
        f"no variable {name!r} here: give produce a notebook variable (a frame or a list of "
        "dicts), or --generator payments"
    )


@dataclass
class Context:
    """What a command may need besides its arguments."""

    cell: str | None = None
    lookup: Callable[[str], Any] = _no_lookup
    """Find the SOURCE of `produce`: a notebook variable, or a JSON-lines file in a shell."""
    say: Callable[[str], None] = field(default=lambda _m: None)
    present_watch: Callable[[Any], object] = field(default=lambda watch: watch)
    """Turns a started WatchSet into what is shown: a widget panel, or terminal progress."""
    present_run: Callable[[Any, bool], object] = field(default=lambda handle, _follow: handle)
    """Turns a RunHandle (watching its job) into what is shown; the flag is `--watch`."""
    switch_profile: Callable[[str], Any] | None = None
    """Makes the front end work on another profile's stack from now on, and returns its
    Workbench (a notebook can; a shell chooses per command with ``--profile``)."""


def read_text_file(path: str) -> str:
    """A job's text from a file (`job NAME --file PATH`), in a notebook or a shell."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise CommandLineError(f"no file {path!r}")
    return file.read_text()


def read_json_lines(path: str) -> list[dict[str, Any]]:
    """Events from a JSON-lines file, or stdin for '-' (the CLI's SOURCE).

    The whole input is parsed before anything is sent, so a bad line sends nothing.
    """
    if path == "-":
        return list(_json_lines(path, sys.stdin))
    file = Path(path)
    if not file.is_file():
        raise CommandLineError(f"no file {path!r}: give a JSON-lines file or '-' for stdin")
    with file.open() as stream:
        return list(_json_lines(path, stream))


def _json_lines(path: str, stream: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(stream, 1):
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise CommandLineError(f"{path} line {number} is not JSON: {exc}") from None
