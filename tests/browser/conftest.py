"""Fixtures of the browser test: the wheel installed under a prefix, a job prepared on the
session's stack through kappanb's Python API, and JupyterLab serving that prefix."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from kappanb.exceptions import KappaError
from kappanb.generators import PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.browser import tools
from tests.browser.lab_server import LabServer, WheelPrefix

TOPIC, SQL_TABLE, JOB = "lab.payments.v1", "lab_payments", "lab_daily"
EVENTS = 3_000
SQL = (
    "SELECT CAST(event_time AS DATE) AS pay_day, COUNT(*) AS payments "
    "FROM lab_payments WHERE {flag} GROUP BY CAST(event_time AS DATE)"
)


@dataclass(frozen=True)
class PreparedJob:
    """JOB with v1 live (served) and v2 a bounded replay that has finished."""

    workbench: Workbench
    job: str
    sql_table: str
    topic: str


@pytest.fixture(scope="session")
def browser_tools() -> Path:
    """Chromium, Node.js and the pinned playwright-core (skip, or fail under CI, if missing)."""
    executable = tools.chromium()
    tools.node()
    tools.ensure_playwright()
    return executable


@pytest.fixture(scope="session")
def lab_prefix(kappanb_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> WheelPrefix:
    return WheelPrefix.install(kappanb_wheel, tmp_path_factory.mktemp("prefix"))


@pytest.fixture
def prepared_job(idle_stack: EmbeddedStack) -> Iterator[PreparedJob]:
    started = time.monotonic()
    wb = Workbench(replace(idle_stack.settings, checkpoint_interval="2 s"), auto_up=False)
    wb.topic(TOPIC, "payments", partitions=2, table=SQL_TABLE, event_time="event_time",
             watermark="30 s")  # fmt: skip
    wb.produce(TOPIC, PaymentsGenerator(seed=9).events(EVENTS))
    wb.job(JOB, SQL.format(flag="NOT captured"), note="the inverted flag")
    wb.run(JOB, watch=False)
    try:
        wb.job(JOB, SQL.format(flag="captured"), note="the fix")
        replay = wb.replay(JOB, 2, until="latest")
        assert replay.wait(timeout=120) and replay.finished, f"v2 did not finish: {replay}"
        assert wb.serving(JOB) == 1
        print(f"\n{JOB}: v1 live, v2 replayed to its end in {time.monotonic() - started:.0f} s")
        yield PreparedJob(wb, JOB, SQL_TABLE, TOPIC)
    finally:  # the runs this test started stop with it (v1 live; v2 unless it finished)
        for version in sorted({run.version for run in wb.runs(JOB) if run.active}):
            with contextlib.suppress(KappaError):  # it stopped by itself meanwhile
                wb.stop(JOB, version)


@pytest.fixture
def lab(lab_prefix: WheelPrefix, idle_stack: EmbeddedStack, tmp_path: Path) -> Iterator[LabServer]:
    server = LabServer.start(lab_prefix.env(idle_stack.settings.home), tmp_path / "lab")
    try:
        yield server
    finally:
        server.stop()
