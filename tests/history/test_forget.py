"""A deletion request on the real stack (issue 23, point 4): `forget TOPIC --where ...`
deletes the matching events from the archive (its current snapshot holds none of them and
every other one), writes tombstones for their keys on a compacted topic, names the job
versions whose outputs need a replay, sets the log's retention against the deadline; the
wrong ways change nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from IPython.core.interactiveshell import InteractiveShell

from kappanb.exceptions import WhereError
from kappanb.history.forget_report import ForgetReport
from kappanb.kafka.topics import end_offsets
from kappanb.stack.base import Stack
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import committed_rows
from kappanb.tables.merge_read import read_snapshot
from kappanb.tables.read import read_table
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench, new_shell
from tests.oracles import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RIDES, DRIVERS = "forget.rides.v1", "forget.drivers.v1"
RIDES_ARCHIVE, DRIVERS_ARCHIVE = "archive__forget_rides", "archive__forget_drivers"
RIDES_SCHEMA = "ride_id STRING, driver_id STRING, fare BIGINT, ts TIMESTAMP(3)"
START = datetime(2026, 12, 1, tzinfo=UTC)
Where = tuple[int, int]  # (partition, offset)


def produce(
    stack: Stack, topic: str, events: list[tuple[bytes, int, dict[str, Any]]]
) -> dict[Where, dict[str, Any]]:
    """Send (key, partition, value) records; return the values by where Kafka put them."""
    producer = Producer(stack.endpoints().kafka.client_config())
    sent: dict[Where, dict[str, Any]] = {}
    for key, partition, value in events:

        def delivered(err: Any, msg: Any, value: dict[str, Any] = value) -> None:
            assert err is None, err
            sent[(msg.partition(), msg.offset())] = value

        producer.produce(topic, json.dumps(value).encode(), key=key, partition=partition,
                         on_delivery=delivered)  # fmt: skip
    assert producer.flush(30) == 0 and len(sent) == len(events)
    return sent


def rides() -> list[tuple[bytes, int, dict[str, Any]]]:
    out = []
    for i in range(40):
        driver = f"d{i % 4}"
        ts = (START + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S.000")
        out.append((driver.encode(), i % 2, {"ride_id": f"r{i}", "driver_id": driver,
                                               "fare": 100 + i, "ts": ts}))  # fmt: skip
    return out


def drivers() -> list[tuple[bytes, int, dict[str, Any]]]:
    """Three versions of each of 4 drivers' profiles, each key in one partition."""
    return [(f"d{d}".encode(), d % 2, {"driver_id": f"d{d}", "name": f"driver {d} v{n}"})
            for n in range(3) for d in range(4)]  # fmt: skip


def archived(wb: Workbench, table: str, expected: int) -> pl.DataFrame:
    catalog = wb.stack.endpoints().catalog
    count = eventually(lambda: committed_rows(catalog, table), lambda n: n == expected, 180)
    assert count == expected
    return read_table(catalog, table)


def positions(frame: pl.DataFrame) -> set[Where]:
    return {(int(p), int(o)) for p, o in frame.select("kafka_partition", "kafka_offset").rows()}


def records(stack: EmbeddedStack, topic: str) -> list[tuple[int, bytes | None, bytes | None]]:
    """Every record of the topic now: (partition, key, value)."""
    bootstrap = stack.endpoints().bootstrap_servers
    ends = end_offsets(stack.endpoints().kafka, topic)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "forget-test",
                         "enable.auto.commit": False})  # fmt: skip
    consumer.assign([TopicPartition(topic, p, 0) for p in ends])
    got: list[tuple[int, bytes | None, bytes | None]] = []
    try:
        eventually(lambda: got.extend(
            (m.partition(), m.key(), m.value())
            for m in consumer.consume(100, timeout=1) if m.error() is None
        ) or len(got), lambda n: n >= sum(ends.values()), 30)  # fmt: skip
    finally:
        consumer.close()
    return got


def kappanb_snapshots(catalog: Any, table: str) -> list[int]:
    """The snapshots a row-level delete committed (Flink's are appends)."""
    loaded = catalog.open().load_table(("default", table))
    marked = [(s.snapshot_id, s.summary) for s in loaded.snapshots()]
    return [i for i, summary in marked
            if summary and "kappanb.deleted-rows" in summary.additional_properties]  # fmt: skip


def test_forget_deletes_tombstones_and_names_the_replays(idle_stack: EmbeddedStack) -> None:
    wb = fresh_workbench(idle_stack)
    wb.topic(RIDES, RIDES_SCHEMA, partitions=2, table="forget_rides", retention="40d")
    wb.topic(DRIVERS, "driver_id STRING, name STRING", partitions=2, compact=True,
             key="driver_id", table="forget_drivers")  # fmt: skip
    sent_rides = produce(idle_stack, RIDES, rides())
    sent_drivers = produce(idle_stack, DRIVERS, drivers())
    wb.job("rides_by_driver", "SELECT driver_id, COUNT(*) AS rides FROM forget_rides "
           "GROUP BY driver_id", key=["driver_id"])  # fmt: skip
    wb.archive(RIDES)
    wb.archive(DRIVERS)
    wb.run("rides_by_driver", watch=False)
    before = archived(wb, RIDES_ARCHIVE, len(sent_rides))
    archived(wb, DRIVERS_ARCHIVE, len(sent_drivers))
    out = eventually(lambda: wb.read("rides_by_driver").collect(), lambda f: f.height == 4, 120)
    assert sorted(out.rows()) == [(f"d{d}", 10) for d in range(4)]
    wb.job(
        "rides_by_driver",
        "SELECT driver_id, SUM(fare) AS fares FROM forget_rides GROUP BY driver_id",
        key=["driver_id"],
    )  # v2: never run

    # Wrong conditions change nothing: no snapshot, no tombstone.
    catalog = idle_stack.endpoints().catalog
    log = end_offsets(idle_stack.endpoints().kafka, DRIVERS)
    for where, says in (("rider = 'd1'", f"names rider, which {DRIVERS_ARCHIVE} does not"),
                        ("driver_id = 3", "does not fit the types")):  # fmt: skip
        with pytest.raises(WhereError, match=re.escape(says)):
            wb.forget(DRIVERS, where=where)
    for table in (RIDES_ARCHIVE, DRIVERS_ARCHIVE):  # Flink's commits only: appends
        assert not kappanb_snapshots(catalog, table)
    assert positions(read_table(catalog, DRIVERS_ARCHIVE)) == set(sent_drivers)
    assert end_offsets(idle_stack.endpoints().kafka, DRIVERS) == log

    # The rides of d2: out of the archive; the output that counts them needs a replay.
    report = wb.forget(RIDES, where="driver_id = 'd2'")
    gone = {w for w, v in sent_rides.items() if v["driver_id"] == "d2"}
    assert (report.deleted, report.left, report.unarchived) == (len(gone), 0, 0)
    after = read_table(catalog, RIDES_ARCHIVE)
    assert positions(after) == positions(before) - gone == set(sent_rides) - gone
    assert not report.tombstones.compacted and report.tombstones.written == 0
    ran, never = report.derived
    assert (ran.job, ran.version, ran.table, ran.matching) == (
        "rides_by_driver", 1, "rides_by_driver__v1", 1,
    )  # fmt: skip
    assert (never.version, never.table, never.matching) == (2, "-", None)
    assert report.replays == [f"replay rides_by_driver v{v} --from archive" for v in (1, 2)]
    assert kappanb_snapshots(catalog, RIDES_ARCHIVE) == [report.snapshot_id]
    assert report.log.in_log == len(gone) and not report.log.meets and report.log.too_long
    text = str(report)
    assert report.log.policy.retention_ms == 40 * 86_400_000  # as Kafka has it
    assert "retention 40.0 days" in text and f"`topic {RIDES} --schema ... --retention 23d`" in text
    assert "<table" in report._repr_html_() and "replay rides_by_driver v1" in text

    # The profiles of d2: out of the archive, and a tombstone in d2's partition.
    report = wb.forget(DRIVERS, where="driver_id = 'd2'")
    assert report.deleted == 3 and report.left == 0 and report.derived == ()
    assert report.tombstones.compacted and report.tombstones.written == 1
    left = read_table(catalog, DRIVERS_ARCHIVE)  # may hold the tombstone already: no value
    assert left.filter(pl.col("driver_id") == "d2").is_empty()
    assert positions(left.filter(pl.col("kafka_value").is_not_null())) == {
        w for w, v in sent_drivers.items() if v["driver_id"] != "d2"
    }
    tombstones = [(p, k) for p, k, v in records(idle_stack, DRIVERS) if v is None]
    assert tombstones == [(0, b"d2")]
    assert "max.compaction.lag.ms" in str(report)

    # Nothing matches: not an error, nothing done; the magic twin says the same. The
    # retention the report advised, set by declaring the topic again, meets the deadline.
    wb.topic(RIDES, RIDES_SCHEMA, partitions=2, table="forget_rides", retention="23d")
    shell = new_shell(wb)
    try:
        none = shell.run_line_magic("kappa", f"forget {RIDES} --where \"driver_id = 'd9'\"")
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(none, ForgetReport)
    assert (none.deleted, none.snapshot_id, none.log.in_log) == (0, None, 0)
    assert none.log.policy.retention_ms == 23 * 86_400_000 and not none.log.too_long
    assert positions(read_table(catalog, RIDES_ARCHIVE)) == set(sent_rides) - gone

    # With --expire-history no snapshot, so no time travel, reaches d2's rides any more.
    expired = wb.forget(RIDES, where="driver_id = 'd9'", expire_history=True)
    assert expired.history is not None and expired.history.files >= 1
    table = catalog.open().load_table(("default", RIDES_ARCHIVE))
    for snapshot in table.snapshots():
        frame = pl.from_arrow(read_snapshot(table, snapshot.snapshot_id))
        assert (
            isinstance(frame, pl.DataFrame) and frame.filter(pl.col("driver_id") == "d2").is_empty()
        )
    for topic in (RIDES, DRIVERS):
        wb.archive(topic, stop=True)
    wb.stop("rides_by_driver", 1)
