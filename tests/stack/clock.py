"""A wall-clock step as kappanb sees it, for tests of process identity."""

from __future__ import annotations

import psutil
import pytest


def shift_boot_time(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Make psutil report what it does after the wall clock stepped by ``seconds``: the
    boot time, and every create time derived from it, move by that much.

    The boot time is frozen at the call, so that a real step of this machine's clock
    while the test runs (they happen here) does not add to the simulated one."""
    base = psutil.boot_time()
    monkeypatch.setattr(psutil, "boot_time", lambda: base + seconds)
    monkeypatch.setattr(
        psutil.Process,
        "create_time",
        lambda p: p._proc.create_time(monotonic=True) + base + seconds,
    )


def identity_of(pid: int) -> str:
    """What kappanb's identity check sees of ``pid``, for an assertion's message."""
    try:
        proc = psutil.Process(pid)
        return (
            f"status={proc.status()} create_time={proc.create_time():.2f} "
            f"boot_time={psutil.boot_time():.2f} cmdline={proc.cmdline()}"
        )
    except psutil.Error as exc:
        return f"psutil: {exc!r}"
