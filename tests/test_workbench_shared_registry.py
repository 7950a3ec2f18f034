"""Two Workbench processes on one cluster's registry (the session's Kafka holds it, as a
cluster profile's does): each sees the other's jobs, and a second `promote` of a job while
the first is under way is refused, naming who holds it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kappanb.exceptions import JobBusyError
from kappanb.registry.records import JobVersion
from kappanb.registry.shared import LogRegistry
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.registry.log_stack import LogRegistryStack, a_run

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[1]
JOB = "shared_counts"


def test_a_second_promote_of_a_job_on_another_machine_is_refused_naming_the_first(
    stack: EmbeddedStack, tmp_path: Path
) -> None:
    topic = f"_kappanb.registry.test-{uuid.uuid4().hex[:8]}"
    here = Workbench(stack=LogRegistryStack(stack.settings, topic, tmp_path / "here.sqlite"),
                     auto_up=False)  # fmt: skip
    assert isinstance(here.registry, LogRegistry)  # the profile's choice, not the workbench's
    for n in (1, 2):
        here.registry.add_version(JobVersion(JOB, 0, "sql", f"SELECT {n}", f"d{n}", ""))
        here.registry.add_run(a_run(JOB, n))
    here.registry.switch(JOB, 1, f"{JOB}__v1", kind="first live run", expect_from=None)

    args = [str(stack.settings.home), topic, str(tmp_path / "there.sqlite"), JOB, "2"]
    there = subprocess.Popen(
        [sys.executable, "-m", "tests.registry.log_stack", *args], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert there.stdout is not None and there.stdin is not None
        assert there.stdout.readline().strip() == f"sees {JOB} v1, {JOB} v2"
        assert there.stdout.readline().strip() == "promoting"
        with pytest.raises(JobBusyError) as refused:
            here.promote(JOB, 2)
        said = str(refused.value)
        assert f"(`promote {JOB} v2`, pid {there.pid} on " in said, said
        assert f"so `promote {JOB} v2` was not started" in said
        assert here.serving(JOB) == 1  # the refused promote switched nothing
        there.stdin.close()  # the first promote goes on and switches
        out = there.stdout.read()
        assert there.wait(60) == 0 and f"{JOB} now serves v2" in out, out
    finally:
        if there.poll() is None:
            there.kill()
            there.wait(30)
    assert here.serving(JOB) == 2
    assert [(s.from_version, s.to_version, s.kind) for s in here.registry.switches(JOB)] == [
        (None, 1, "first live run"), (1, 2, "promote")
    ]  # fmt: skip
