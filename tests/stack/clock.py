"""A wall-clock step as kappanb sees it, for tests of process identity."""

from __future__ import annotations

import psutil
import pytest


def shift_boot_time(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Make psutil report what it does after the wall clock stepped by ``seconds``: the
    boot time, and every create time derived from it, move by that much."""
    boot_time, create_time = psutil.boot_time, psutil.Process.create_time
    monkeypatch.setattr(psutil, "boot_time", lambda: boot_time() + seconds)
    monkeypatch.setattr(psutil.Process, "create_time", lambda p: create_time(p) + seconds)
