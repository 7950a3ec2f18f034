"""Shared fixtures: one real embedded stack per test session, in a temporary home."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kappanb.monitor.watcher import stop_all
from kappanb.stack.embedded import EmbeddedStack
from kappanb.stack.endpoints import Endpoints
from tests.helpers import settings_for


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    """The session's stack: started once, stopped at the end whatever happened."""
    embedded = EmbeddedStack(settings_for(tmp_path_factory.mktemp("kappanb-home")))
    try:
        embedded.up()
        yield embedded
    finally:
        embedded.down()


@pytest.fixture(scope="session")
def endpoints(stack: EmbeddedStack) -> Endpoints:
    return stack.endpoints()


@pytest.fixture(autouse=True)
def _no_watch_outlives_its_test() -> Iterator[None]:
    """Runs started with watch=True sample in the background; one test's must not load
    the next (the runs themselves are the tests' business)."""
    yield
    stop_all()
