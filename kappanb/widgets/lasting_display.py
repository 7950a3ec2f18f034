"""An output that can be replaced later from a background thread, in any frontend.

Frontends route a display update by the message's parent (the cell execution it
belongs to), and they do it differently:

- JupyterLab applies an update only in the output area of the cell whose execution is
  the parent, so the update must name the cell that displayed the output;
- nbclient (nbconvert, nbval) only reads messages whose parent is the cell executing
  now, and then updates every output with that display id, in any cell.

A background thread has no parent of its own (ipykernel uses the latest execution's),
so `update` sends the update under the current execution and, when that is another
cell, once more under the execution that displayed the output.
"""

from __future__ import annotations

from typing import Any


def _shell() -> Any:
    from IPython.core.getipython import get_ipython

    return get_ipython()


def _msg_id(parent: Any) -> Any:
    return (parent or {}).get("header", {}).get("msg_id") if isinstance(parent, dict) else None


class LastingDisplay:
    """One output with a display id; ``update`` replaces its content from any thread."""

    def __init__(self) -> None:
        self._handle: Any = None
        self._origin: Any = None

    @property
    def shown(self) -> bool:
        return self._handle is not None

    def show(self, bundle: dict[str, Any]) -> None:
        from IPython.display import display

        shell = _shell()
        get_parent = getattr(shell, "get_parent", None)
        self._origin = get_parent() if get_parent is not None else None
        self._handle = display(bundle, raw=True, display_id=True)  # type: ignore[no-untyped-call]

    def update(self, bundle: dict[str, Any]) -> None:
        if self._handle is None:
            return
        self._handle.update(bundle, raw=True)  # under the current execution (nbclient)
        shell = _shell()
        get_parent = getattr(shell, "get_parent", None)
        current = get_parent() if get_parent is not None else None
        set_thread_parent = getattr(shell, "set_thread_parent", None)
        if set_thread_parent is None or _msg_id(current) == _msg_id(self._origin):
            return
        tokens = set_thread_parent(self._origin)  # and under the cell that showed it (Lab)
        try:
            self._handle.update(bundle, raw=True)
        finally:
            shell.reset_thread_parent(tokens)
