"""The plain-text form IPython shows for kappanb's results: the same text the CLI prints.

A result's dataclass ``repr`` (paths, pids, nested records) is for debugging; what a
terminal IPython session and a saved notebook's ``text/plain`` should carry is the
readable summary ``str()`` gives. Notebooks still get the HTML form where there is one.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def _pretty_str(self: object, printer: Any, cycle: bool) -> None:
    printer.text(str(self))


def plain_text(cls: T) -> T:
    """Class decorator: IPython displays instances as ``str(obj)``. (IPython prefers a
    ``__repr__`` found earlier in the MRO, so this goes into the class itself, where a
    dataclass's generated ``__repr__`` lives too.)"""
    setattr(cls, "_repr_pretty_", _pretty_str)  # noqa: B010 (mypy: T has no such attribute)
    return cls
