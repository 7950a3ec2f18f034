"""The arguments several subcommands share (the job's name, a version, what `run` and
`replay` take)."""

from __future__ import annotations

from typing import Any

from kappanb.commands.argument_types import (
    positive_int,
    version,
)
from kappanb.commands.declaration import Arg, OneOf, arg, one_of

JOB = arg("name", completes="job")


def version_arg(name: str = "version", **options: Any) -> Arg:
    """A positional version of the job named before it: v1, v2, ... (or 1, 2, ...)."""
    return arg(name, type=version, completes="version", **options)


def start_arguments(*read_range: Arg) -> tuple[Arg | OneOf, ...]:
    """What `run` and `replay` take; `replay` adds the range it reads."""
    return (
        JOB,
        version_arg(nargs="?", help="v1, v2, ... (default: newest)"),
        *read_range,
        arg("--restart", action="store_true", help="replace a running/written run"),
        arg("--new-table", action="store_true", help="write a new table instead"),
        arg("--parallelism", type=positive_int, default=1, help="parallel tasks (task slots)"),
        one_of(
            arg("--quiet", action="store_true",
                help="no watch panel (and no background sampling)"),
            arg("--watch", action="store_true",
                help="in a shell: follow progress until caught up or finished"),
        ),
    )  # fmt: skip
