"""Tab completion for `%kappa`: subcommands, flags, and the names kappanb knows now."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kappanb.commands.parser import SUBCOMMANDS, build_parser

_TAKES_JOB = {
    "job", "show", "run", "replay", "stop", "resume", "read", "status", "watch", "diff",
    "promote", "rollback", "history", "retire",
}  # fmt: skip
_TAKES_TOPIC = {"produce", "topic"}


@dataclass(frozen=True)
class KnownNames:
    """What can be completed: read from the registry when completion is asked for."""

    topics: Callable[[], Sequence[str]]
    jobs: Callable[[], Sequence[str]]
    versions: Callable[[str], Sequence[str]]


def _flags(command: str) -> list[str]:
    parser = build_parser("%kappa")
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        sub = getattr(action, "choices", {}).get(command)
        if sub is not None:
            return sorted(o for a in sub._actions for o in a.option_strings if o.startswith("--"))
    return []


def complete(line: str, names: KnownNames) -> list[str]:
    """Candidates for the word being typed at the end of ``line`` (``%kappa run da``)."""
    try:
        words = shlex.split(line)
    except ValueError:
        return []
    if line.endswith((" ", "\t")):
        words.append("")
    words = [w for w in words if w not in ("%kappa", "%%kappa")]
    if len(words) <= 1:
        return list(SUBCOMMANDS)
    command, args, current = words[0], words[1:-1], words[-1]
    if current.startswith("-"):
        return _flags(command)
    positional = [a for a in args if not a.startswith("-")]
    if not positional:
        if command in _TAKES_JOB:
            return list(names.jobs())
        if command in _TAKES_TOPIC:
            return list(names.topics())
    elif len(positional) == 1 and command in _TAKES_JOB - {"job", "status", "rollback", "history"}:
        return list(names.versions(positional[0]))
    return []
