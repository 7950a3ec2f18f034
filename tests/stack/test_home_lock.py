"""The home's lock: an `up` waits for an `up` under way; anything else is refused at once."""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path

import pytest

from kappanb.exceptions import StackBusyError
from kappanb.stack.embedded import EmbeddedStack
from tests.helpers import settings_for


def _hold(stack: EmbeddedStack, holder: str, seconds: float) -> threading.Thread:
    """Take the home's lock as another command would, and let go after ``seconds``."""
    stack.layout.run_dir.mkdir(parents=True, exist_ok=True)
    fh = stack.layout.lock_file.open("a+")
    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fh.write(holder)
    fh.flush()

    def release() -> None:
        time.sleep(seconds)
        fh.close()

    thread = threading.Thread(target=release)
    thread.start()
    return thread


def test_up_waits_for_an_up_under_way(tmp_path: Path) -> None:
    stack = EmbeddedStack(settings_for(tmp_path))
    said: list[str] = []
    releaser = _hold(stack, "pid 4242 running up", 1.0)
    began = time.monotonic()
    with stack.processes.locked("up", said.append):
        waited = time.monotonic() - began
    releaser.join()
    assert waited >= 0.9
    assert said == ["waiting for another `up` (pid 4242 running up) to finish ..."]


def test_other_commands_are_refused_at_once(tmp_path: Path) -> None:
    stack = EmbeddedStack(settings_for(tmp_path))
    releaser = _hold(stack, "pid 4242 running up", 1.0)
    began = time.monotonic()
    refused = r"\(pid 4242 running up\).*try `down` again"
    with pytest.raises(StackBusyError, match=refused), stack.processes.locked("down"):
        pass
    assert time.monotonic() - began < 0.5
    releaser.join()
    releaser = _hold(stack, "pid 4242 running down", 1.0)
    with pytest.raises(StackBusyError, match="running down"), stack.processes.locked("up"):
        pass
    releaser.join()
