"""kappanb: a Jupyter-first workbench for the Kappa architecture."""

from __future__ import annotations

__version__ = "0.1.0"
