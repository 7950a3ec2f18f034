"""`down` suspends a topic's archive with a savepoint and `up` resumes it: the records
written before, and after, are all in the archive, each once (issue 23, point 1)."""

from __future__ import annotations

import pytest

from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.runs.test_archive import SCHEMA, check_exactly, produce, rows_once_archived

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPIC, TABLE = "downup.rides.v1", "downup_rides"


def test_down_suspends_the_archive_and_up_resumes_it_exactly(
    fault_stack: EmbeddedStack, fault_wb: Workbench
) -> None:
    fault_wb.topic(TOPIC, SCHEMA, partitions=2, table=TABLE)
    sent = produce(fault_stack, 0, 120, TOPIC)
    started = fault_wb.archive(TOPIC)
    check_exactly(rows_once_archived(fault_wb, len(sent), TOPIC, f"archive__{TABLE}"), sent)

    down = fault_wb.down()
    assert any(line.startswith(f"suspended archive.{TOPIC} v0") for line in down.runs), down.runs
    (suspended,) = [r for r in fault_wb.runs() if r.id == started.run.id]
    assert suspended.state == "SUSPENDED" and suspended.savepoint

    up = fault_wb.up()
    assert any(line.startswith(f"resumed archive.{TOPIC} v0") for line in up.runs), up.runs
    (resumed,) = [r for r in fault_wb.runs() if r.id == started.run.id]
    assert resumed.state == "RUNNING" and resumed.restored_from == suspended.savepoint

    sent |= produce(fault_stack, 120, 80, TOPIC)
    check_exactly(rows_once_archived(fault_wb, len(sent), TOPIC, f"archive__{TABLE}"), sent)
