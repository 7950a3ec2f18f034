"""Display updates from a background thread reach the output in JupyterLab and nbclient."""

from __future__ import annotations

from typing import Any

import pytest

from kappanb.widgets import lasting_display
from kappanb.widgets.lasting_display import LastingDisplay


def execution(msg_id: str) -> dict[str, Any]:
    return {"header": {"msg_id": msg_id}}


class KernelShell:
    """ipykernel's parent handling: a global parent, and a per-thread override."""

    def __init__(self) -> None:
        self.global_parent = execution("cell-1")
        self.thread_parent: dict[str, Any] | None = None

    def get_parent(self) -> dict[str, Any]:
        return self.thread_parent or self.global_parent

    def set_thread_parent(self, parent: dict[str, Any]) -> object:
        previous, self.thread_parent = self.thread_parent, parent
        return previous

    def reset_thread_parent(self, token: Any) -> None:
        self.thread_parent = token


def test_an_update_goes_to_the_running_cell_and_to_the_cell_that_showed_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shell = KernelShell()
    sent: list[tuple[str, str]] = []

    class Handle:
        def update(self, bundle: dict[str, Any], raw: bool) -> None:
            sent.append((bundle["text/plain"], shell.get_parent()["header"]["msg_id"]))

    monkeypatch.setattr(lasting_display, "_shell", lambda: shell)
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: Handle())
    output = LastingDisplay()
    output.update({"text/plain": "before"})  # nothing shown yet: nothing sent
    output.show({"text/plain": "live"})  # in cell-1
    output.update({"text/plain": "same cell"})  # cell-1 still runs: one update
    shell.global_parent = execution("cell-7")  # later, while cell-7 runs
    output.update({"text/plain": "final"})
    assert sent == [("same cell", "cell-1"), ("final", "cell-7"), ("final", "cell-1")]
    assert shell.thread_parent is None  # the thread's parent is restored
