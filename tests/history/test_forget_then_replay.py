"""A deletion request, then a replay from the archive (issue 23, point 4): no output row
of the replay derives from the forgotten key, every other row is exact (a polars oracle
over the events without it), and the archive's current snapshot holds none of its events.

The log still holds every event here (no retention), so the point is the handoff: the
replay reads the archive, then Kafka from one past the highest offset the archive ever
held in each partition. The forgotten driver's rides are placed where a handoff computed
from the rows left would move back: the first record of partition 1 (its archive would
seem to start late) and the last records of partition 0 (Kafka would deliver them again).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from kappanb.kafka.topics import end_offsets
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import committed_rows
from kappanb.tables.read import read_table
from kappanb.workbench import Workbench
from tests.history.test_forget import produce
from tests.magics.conftest import fresh_workbench
from tests.oracles import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPIC, TABLE = "forget.replay.rides.v1", "forget_replay_rides"
ARCHIVE = "archive__forget_replay_rides"
SCHEMA = "ride_id STRING, driver_id STRING, fare BIGINT, ts TIMESTAMP(3)"
JOB, GONE, RIDES = "fares_by_driver_day", "d3", 240
START = datetime(2026, 12, 1, tzinfo=UTC)


def ride(i: int, driver: str, partition: int) -> tuple[bytes, int, dict[str, Any]]:
    ts = (START + timedelta(minutes=17 * i)).strftime("%Y-%m-%d %H:%M:%S.000")
    value = {"ride_id": f"r{i}", "driver_id": driver, "fare": 100 + 7 * i, "ts": ts}
    return driver.encode(), partition, value


def rides() -> list[tuple[bytes, int, dict[str, Any]]]:
    """`GONE` first in partition 1 and last in partition 0; three drivers in between."""
    out = [ride(0, GONE, 1)]
    out += [ride(i, f"d{i % 3}", i % 2) for i in range(1, RIDES)]
    out += [ride(RIDES + i, GONE, 0) for i in range(3)]
    return out


def oracle(values: list[dict[str, Any]]) -> pl.DataFrame:
    frame = pl.DataFrame(values).with_columns(
        pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S%.3f").dt.date().alias("day")
    )
    return (
        frame.filter(pl.col("driver_id") != GONE)
        .group_by("driver_id", "day")
        .agg(pl.len().cast(pl.Int64).alias("rides"), pl.col("fare").sum().alias("fares"))
        .sort("driver_id", "day")
    )


def test_a_replay_from_the_archive_after_forget_leaves_no_trace(
    idle_stack: EmbeddedStack,
) -> None:
    check_forget_then_replay(fresh_workbench(idle_stack))


def check_forget_then_replay(wb: Workbench) -> None:
    """The whole story on ``wb``'s stack (the embedded one here; a cluster profile's in
    tests/cluster, where the archive is an Iceberg table of the REST catalog on S3)."""
    catalog, kafka = wb.stack.endpoints().catalog, wb.stack.endpoints().kafka
    wb.topic(TOPIC, SCHEMA, partitions=2, table=TABLE, event_time="ts")
    sent = produce(wb.stack, TOPIC, rides())
    ends = end_offsets(kafka, TOPIC)
    assert ends == {p: sum(1 for where in sent if where[0] == p) for p in (0, 1)}
    assert (sent[(1, 0)]["driver_id"], sent[(0, ends[0] - 1)]["driver_id"]) == (GONE, GONE)
    wb.job(JOB, (
        "SELECT driver_id, CAST(ts AS DATE) AS `day`, COUNT(*) AS rides, SUM(fare) AS fares "
        f"FROM {TABLE} GROUP BY driver_id, CAST(ts AS DATE)"
    ), key=["driver_id", "day"])  # fmt: skip
    wb.archive(TOPIC)
    count = eventually(lambda: committed_rows(catalog, ARCHIVE), lambda n: n == len(sent), 180)
    assert count == len(sent), wb.status(TOPIC)
    wb.archive(TOPIC, stop=True)

    report = wb.forget(TOPIC, where=f"driver_id = '{GONE}'")
    assert report.deleted == 4 and report.left == 0
    left = read_table(catalog, ARCHIVE)
    assert left.filter(pl.col("driver_id") == GONE).is_empty()
    assert left.height == len(sent) - 4
    held = wb.retention(TOPIC).archive  # what it read, forgotten offsets included
    assert held.exists and held.upto == ends
    assert held.rows == len(sent) - 4  # the rows a replay reads: the forgotten ones not

    handle = wb.replay(JOB, start="archive", until="latest")
    assert handle.wait(timeout=240), f"the bounded replay did not finish: {wb.status(JOB)}"
    # The handoff is one past everything ever archived, not past the rows the delete left.
    assert handle.run.first_offsets == f"{TOPIC}@0:{ends[0]},1:{ends[1]}"
    # It read the archive's rows left (its snapshot's), and nothing of the log after them.
    (rate,) = [r for r in wb.retention(TOPIC).rates if r.run_id == handle.run.id]
    assert rate.records == rate.from_archive == len(sent) - 4
    out = read_table(catalog, handle.run.table)
    assert out.filter(pl.col("driver_id") == GONE).is_empty()
    got = out.select("driver_id", "day", "rides", "fares").sort("driver_id", "day")
    expected = oracle(list(sent.values()))
    assert expected.height > 8 and got.equals(expected)
