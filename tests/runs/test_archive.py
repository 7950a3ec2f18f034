"""A topic's archive on the real stack (issue 23, point 1): every record, as it was, exactly
once, in ``archive__<table>``; more records arrive while it runs; a stop with a savepoint
and `archive` again go on without a gap or a duplicate; the wrong ways create nothing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from confluent_kafka import Producer
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kappanb.exceptions import ArchiveRunningError, UnknownTopicError
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import catalog_table_count, committed_rows
from kappanb.tables.read import read_table
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench, new_shell
from tests.oracles import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPIC, TABLE = "archived.rides.v1", "archived_rides"
ARCHIVE = f"archive__{TABLE}"
SCHEMA = "ride_id STRING, fare BIGINT, ts TIMESTAMP(3)"
START = datetime(2026, 12, 1, tzinfo=UTC)
MALFORMED = [b"not JSON", b'{"ride_id": "r", "fare": "lots", "ts": "2026-12-01 00:00:00"}',
             b'{"ride_id": "no fare"}', b"\xff\xfe binary"]  # fmt: skip


@dataclass(frozen=True)
class Sent:
    """A record as the producer wrote it, and where Kafka put it."""

    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    good: dict[str, Any] | None


def produce(
    stack: EmbeddedStack, first: int, count: int, topic: str = TOPIC
) -> dict[tuple[int, int], Sent]:
    """``count`` records over 2 partitions: every third keyed, every 50th malformed, one
    without a value; returns them by (partition, offset)."""
    producer = Producer({"bootstrap.servers": stack.endpoints().bootstrap_servers})
    sent: dict[tuple[int, int], Sent] = {}
    for i in range(first, first + count):
        key = f"driver-{i % 7}".encode() if i % 3 == 0 else None
        good: dict[str, Any] | None = None
        if i % 50 == 7:
            value: bytes | None = MALFORMED[(i // 50) % len(MALFORMED)]
        elif i == first + 11:
            value = None  # a record without a value is history too
        else:
            ts = START + timedelta(seconds=i)
            good = {"ride_id": f"r{i}", "fare": i * 10, "ts": ts}
            text = {**good, "ts": ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]}
            value = json.dumps(text).encode()

        def delivered(err: Any, msg: Any, key: bytes | None = key, value: bytes | None = value,
                      good: dict[str, Any] | None = good) -> None:  # fmt: skip
            assert err is None, err
            sent[(msg.partition(), msg.offset())] = Sent(key, value, msg.timestamp()[1], good)

        producer.produce(topic, value, key=key, partition=i % 2, on_delivery=delivered)
    assert producer.flush(30) == 0
    assert len(sent) == count
    return sent


def rows_once_archived(
    workbench: Workbench, expected: int, topic: str = TOPIC, table: str = ARCHIVE
) -> pl.DataFrame:
    """The archive table once it holds ``expected`` rows (waits on the commits)."""
    catalog = workbench.stack.endpoints().catalog
    count = eventually(lambda: committed_rows(catalog, table), lambda n: n == expected, 180)
    assert count == expected, workbench.status(topic)
    return read_table(catalog, table)


def check_exactly(frame: pl.DataFrame, sent: dict[tuple[int, int], Sent]) -> None:
    """Every (partition, offset) once, with the key, value and timestamp produced, and
    the declared columns parsed (NULL, with a parse error, for a malformed value)."""
    assert frame.height == len(sent)
    assert frame.select("kafka_partition", "kafka_offset").n_unique() == len(sent)
    for row in frame.iter_rows(named=True):
        want = sent[(row["kafka_partition"], row["kafka_offset"])]
        assert (row["kafka_key"], row["kafka_value"]) == (want.key, want.value)
        assert int(row["kafka_timestamp"].timestamp() * 1000) == want.timestamp_ms
        parsed = {c: row[c] for c in ("ride_id", "fare", "ts")}
        if want.good is not None:
            ts = want.good["ts"].replace(tzinfo=None)
            assert parsed == {**want.good, "ts": ts} and row["parse_error"] is None
        else:
            assert parsed == dict.fromkeys(parsed)
            assert (row["parse_error"] is None) == (want.value is None), row


def test_the_archive_keeps_every_record_once_while_it_runs_and_across_a_stop(
    idle_stack: EmbeddedStack,
) -> None:
    workbench = fresh_workbench(idle_stack)
    workbench.topic(TOPIC, SCHEMA, partitions=2, table=TABLE)
    sent = produce(idle_stack, 0, 400)

    started = workbench.archive(TOPIC)
    assert (started.run.mode, started.run.state, started.run.table) == (
        "archive", "RUNNING", ARCHIVE,
    )  # fmt: skip
    assert started.run.flink_job_id in started.web_url
    check_exactly(rows_once_archived(workbench, len(sent)), sent)

    (row,) = workbench.status(TOPIC).rows
    assert row.run.id == started.run.id and row.records_out == len(sent)
    status = eventually(lambda: workbench.archive_status(TOPIC), lambda s: s.caught_up, 60)
    assert status.lag is not None and status.lag.behind == {0: 0, 1: 0}
    assert status.covers == {0: (0, 199), 1: (0, 199)}
    assert f"#{started.run.id} archive.{TOPIC}: 0 behind the head" in str(workbench.status(TOPIC))
    assert any(r.run.mode == "archive" for r in workbench.status().rows)

    # Queried like an output, by its table's name.
    counted = workbench.sql(f"SELECT COUNT(*) AS n, COUNT(parse_error) AS bad FROM {ARCHIVE}")
    malformed = sum(1 for s in sent.values() if s.good is None and s.value is not None)
    assert counted.row(0) == (len(sent), malformed)

    # More records while it runs arrive too.
    sent |= produce(idle_stack, 400, 100)
    check_exactly(rows_once_archived(workbench, len(sent)), sent)

    # A second archive is refused and starts nothing.
    runs_before, tables_before = (
        workbench.runs(),
        catalog_table_count(idle_stack.endpoints().catalog),
    )
    twice = re.escape(f"an archive of {TOPIC} is already running")
    with pytest.raises(ArchiveRunningError, match=twice):
        workbench.archive(TOPIC)
    shell = new_shell(workbench)  # the magic twin says it in one line
    try:
        with pytest.raises(UsageError, match=twice):
            shell.run_line_magic("kappa", f"archive {TOPIC}")
    finally:
        InteractiveShell.clear_instance()
    assert workbench.runs() == runs_before
    assert catalog_table_count(idle_stack.endpoints().catalog) == tables_before

    # Stopped with a savepoint, then started again: it goes on where it stopped.
    stopped = workbench.archive(TOPIC, stop=True)
    assert stopped.run.state == "STOPPED" and stopped.run.savepoint
    sent |= produce(idle_stack, 500, 60)
    again = workbench.archive(TOPIC)
    assert again.run.id == started.run.id and again.run.restored_from == stopped.run.savepoint
    check_exactly(rows_once_archived(workbench, len(sent)), sent)
    workbench.archive(TOPIC, stop=True)


def test_an_unknown_topic_is_refused_and_nothing_is_made(stack: EmbeddedStack) -> None:
    workbench = fresh_workbench(stack)
    tables = catalog_table_count(stack.endpoints().catalog)
    with pytest.raises(UnknownTopicError, match=re.escape("unknown topic 'no.such.topic'")):
        workbench.archive("no.such.topic")
    assert not [r for r in workbench.runs() if r.mode == "archive" and "no.such" in r.job]
    assert catalog_table_count(stack.endpoints().catalog) == tables
