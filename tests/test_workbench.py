"""The Python twin's own behaviour: `up` implied by the first command that needs the stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from kappanb.kafka.topics import describe_topic
from kappanb.workbench import Workbench
from tests.helpers import settings_for

pytestmark = pytest.mark.integration


def test_first_command_that_needs_the_stack_starts_it(tmp_path: Path) -> None:
    said: list[str] = []
    workbench = Workbench(settings_for(tmp_path / "home"), say=said.append)
    try:
        assert not workbench.stack_status().running
        spec = workbench.topic("implied.v1", "a STRING", partitions=2)
        assert any("starting it" in line for line in said)
        assert workbench.stack_status().healthy
        kafka = workbench.stack.endpoints().kafka
        assert describe_topic(kafka, "implied.v1").partitions == spec.partitions == 2
        assert [t.name for t in workbench.topics()] == ["implied.v1"]
    finally:
        workbench.down()
