"""kappanb: a Jupyter-first workbench for the Kappa architecture."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Workbench", "load_ipython_extension", "read"]


def read(name: str, version: int | None = None) -> Any:
    """The output of job ``name`` as a polars LazyFrame: by default the version its serving
    alias points at (resolved once; one version's snapshot, never a mix). Uses the home in
    ``KAPPANB_HOME`` (default ``~/.kappanb``) and does not start the stack."""
    from kappanb.workbench import Workbench

    return Workbench(auto_up=False).read(name, version)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext kappanb`: register `%kappa` and `%%kappa`."""
    from kappanb.magics.kappa import KappaMagics

    magics = KappaMagics(ipython)
    ipython.register_magics(magics)
    for key in ("%kappa", "%%kappa"):
        ipython.set_hook("complete_command", magics.complete, str_key=key)


def __getattr__(name: str) -> Any:
    if name == "Workbench":  # imported lazily: `import kappanb` stays cheap
        from kappanb.workbench import Workbench

        return Workbench
    raise AttributeError(name)
