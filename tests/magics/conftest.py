"""A real IPython shell with `%kappa` bound to a Workbench on the session's stack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from kappanb.magics.kappa import KappaMagics
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench


def new_shell(workbench: Workbench) -> InteractiveShell:
    """A fresh shell (as after a kernel restart) with the magics registered."""
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    shell.register_magics(KappaMagics(shell, workbench))
    return shell


def fresh_workbench(stack: EmbeddedStack) -> Workbench:
    return Workbench(replace(stack.settings, checkpoint_interval="2 s"), auto_up=False)


@pytest.fixture
def shell(stack: EmbeddedStack) -> Iterator[InteractiveShell]:
    yield new_shell(fresh_workbench(stack))
    InteractiveShell.clear_instance()


Magic = Callable[..., Any]


@pytest.fixture
def kappa(shell: InteractiveShell) -> Magic:
    """`kappa("run x")` runs `%kappa run x`; `kappa("job x", cell)` runs `%%kappa job x`."""

    def call(line: str, cell: str | None = None) -> Any:
        if cell is None:
            return shell.run_line_magic("kappa", line)
        return shell.run_cell_magic("kappa", line, cell)

    return call
