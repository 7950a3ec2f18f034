"""Fixtures of tests/ (the session's stack itself is in the root conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kappanb.monitor.watcher import stop_all
from kappanb.stack.embedded import EmbeddedStack
from kappanb.stack.endpoints import Endpoints
from tests.built_wheel import build_wheel


@pytest.fixture(scope="session")
def endpoints(stack: EmbeddedStack) -> Endpoints:
    return stack.endpoints()


@pytest.fixture(autouse=True)
def _no_watch_outlives_its_test() -> Iterator[None]:
    """Runs started with watch=True sample in the background; one test's must not load
    the next (the runs themselves are the tests' business)."""
    yield
    stop_all()


@pytest.fixture(scope="session")
def kappanb_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel .` builds from this repository (with the lab extension), once."""
    started = time.monotonic()
    wheel = build_wheel(tmp_path_factory.mktemp("wheel"))
    print(f"\nbuilt {wheel} in {time.monotonic() - started:.0f} s")
    return wheel
