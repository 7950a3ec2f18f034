"""A stack of its own for fault injection: killing its processes, or stopping it, must not
touch the session's stack that every other test shares. Checkpoints every second, so a
replay of a few seconds has several to fail over from."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kappanb.flink.rest import FlinkRest
from kappanb.registry.records import ACTIVE_STATES
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.helpers import settings_for


@pytest.fixture(scope="package")
def fault_stack() -> Iterator[EmbeddedStack]:
    home = Path(tempfile.mkdtemp(prefix="kappanb-faults-"))
    embedded = EmbeddedStack(settings_for(home))
    embedded.up()
    try:
        yield embedded
    finally:
        embedded.down()
        if not os.environ.get("KAPPANB_KEEP_TEST_HOMES"):  # to read its logs after a failure
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def fault_wb(fault_stack: EmbeddedStack) -> Iterator[Workbench]:
    """A workbench on the fault stack, brought back up and with no job left running after."""
    wb = Workbench(replace(fault_stack.settings, checkpoint_interval="1 s"), auto_up=False)
    yield wb
    fault_stack.up()  # whatever a test killed comes back for the next one
    rest = FlinkRest(fault_stack.endpoints().flink_rest_url)
    for job in rest.jobs():
        if job.get("state") in ACTIVE_STATES - {"CANCELLING"}:
            rest.cancel(str(job["jid"]))
