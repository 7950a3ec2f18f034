"""A stack's health, checked at most once per command.

The health check (`Stack.status`) asks every service: a Kafka admin client, REST calls,
the catalog. One command needs its answer once, however many of its steps need the
stack's endpoints; the next command asks again, since services come and go between
commands. `StackHealth.command` marks where a command begins and ends (commands may call
each other: the outermost one counts). Each thread has its own command, so a panel polling
from a server thread never sees a notebook command's answer.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from kappanb.stack.base import Stack
from kappanb.stack.status import StackStatus


class StackHealth:
    """Remembers a stack's `status()` while a command runs."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._local = threading.local()

    @contextmanager
    def command(self) -> Iterator[None]:
        depth: int = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                self._local.status = None

    def status(self) -> StackStatus:
        """The stack's health: asked once per command (every time outside one)."""
        known: StackStatus | None = getattr(self._local, "status", None)
        if known is not None:
            return known
        status = self.stack.status()
        self.remember(status)
        return status

    def remember(self, status: StackStatus) -> None:
        """Take ``status`` as the answer for the rest of the command (e.g. after `up`)."""
        if getattr(self._local, "depth", 0) > 0:
            self._local.status = status


class _Commands(Protocol):
    _health: StackHealth


S = TypeVar("S", bound=_Commands)
P = ParamSpec("P")
R = TypeVar("R")


def command(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """A command of the API: while it runs (with the commands it calls), the stack's
    health is checked at most once (its ``_health``)."""

    @functools.wraps(method)
    def wrapped(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._health.command():
            return method(self, *args, **kwargs)

    return wrapped
