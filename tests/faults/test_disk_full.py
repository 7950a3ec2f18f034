"""A full disk under an output table's directory (a 64 KiB tmpfs mounted there): the
writes fail with "No space left on device", Flink keeps restarting the job from its
checkpoint, the catalog stays readable, and once the disk has room the run goes on and
its output is exact (no row lost, none twice).

Mounting needs root, which CI on this machine has.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import DEFAULT_NAMESPACE, open_catalog
from kappanb.workbench import Workbench
from tests.faults.recovery import record

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.faults]

EVENTS = 20_000
SQL = "SELECT payment_id, merchant_id, amount_cents FROM disk_payments"


@contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``folder`` for the block's duration."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def test_a_full_disk_under_a_table_fails_writes_clearly_and_the_run_recovers_when_freed(
    fault_stack: EmbeddedStack, fault_wb: Workbench
) -> None:
    wb = fault_wb
    wb.topic("faults.disk.payments", PAYMENTS_SCHEMA, partitions=2, table="disk_payments")
    events = list(PaymentsGenerator(seed=95).events(EVENTS))
    wb.produce("faults.disk.payments", events)
    wb.job("disk_copy", SQL)
    folder = fault_stack.layout.warehouse / DEFAULT_NAMESPACE / "disk_copy__v1"
    rest = FlinkRest(fault_stack.endpoints().flink_rest_url)
    with small_disk(folder, "64k"):
        run = wb.run("disk_copy", watch=False).run
        deadline = time.monotonic() + 120
        while rest.restarts(run.flink_job_id) == 0:
            assert time.monotonic() < deadline, "the job never failed on the full disk"
            time.sleep(0.5)
        cause = rest.root_exception(run.flink_job_id)
        assert "No space left on device" in cause, cause
        said = str(wb.status("disk_copy"))  # what the user sees while Flink keeps restarting
        assert "last cause:" in said and "No space left on device" in said, said
        # The catalog is intact: the table loads, and what it has committed reads back,
        # each row once (a commit is all of a checkpoint's files or none of them).
        open_catalog(fault_stack.endpoints().catalog).load_table(
            (DEFAULT_NAMESPACE, "disk_copy__v1")
        )
        committed = wb.read("disk_copy", 1).collect()["payment_id"].to_list()
        assert len(committed) == len(set(committed)) < EVENTS
        assert set(committed) <= {e["payment_id"] for e in events}
        freed = time.monotonic()
        subprocess.run(["mount", "-o", "remount,size=64m", str(folder)], check=True)
        expected = sorted(e["payment_id"] for e in events)
        got: list[str] = []
        while time.monotonic() - freed < 120:
            got = sorted(wb.read("disk_copy", 1).collect()["payment_id"].to_list())
            if len(got) >= EVENTS:
                break
            time.sleep(1)
        assert got == expected, f"{len(got)} rows, {len(set(got))} distinct, want {EVENTS}"
        state = rest.job_state(run.flink_job_id)
        assert state == "RUNNING", state
        wb.stop("disk_copy", 1)
    record("full disk under an output table", "1/1", time.monotonic() - freed,
           f"writes failed with 'No space left on device'; catalog intact; after the disk "
           f"was enlarged the job ran on, {EVENTS:,} rows exact")  # fmt: skip
