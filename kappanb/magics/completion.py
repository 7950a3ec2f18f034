"""Tab completion for `%kappa`: subcommands, flags, and the names kappanb knows now."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kappanb.commands.parser import SUBCOMMANDS
from kappanb.commands.vocabulary import TAKES_JOB, TAKES_TOPIC, TAKES_VERSION, flags_of
from kappanb.core.positions import START_WORDS

FLAG_WORDS = {"--from": START_WORDS, "--until": ("latest",)}
"""The words a flag's value may be (it also takes a timestamp or offsets, not offered)."""


@dataclass(frozen=True)
class KnownNames:
    """What can be completed: read from the registry when completion is asked for."""

    topics: Callable[[], Sequence[str]]
    jobs: Callable[[], Sequence[str]]
    versions: Callable[[str], Sequence[str]]


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
        return flags_of(command)
    if args and args[-1] in FLAG_WORDS:
        return [w for w in FLAG_WORDS[args[-1]] if w.startswith(current)]
    positional = [a for a in args if not a.startswith("-")]
    if not positional:
        if command in TAKES_JOB:
            return list(names.jobs())
        if command in TAKES_TOPIC:
            return list(names.topics())
    elif len(positional) == 1 and command in TAKES_VERSION:
        return list(names.versions(positional[0]))
    return []
