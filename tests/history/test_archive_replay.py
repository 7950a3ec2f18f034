"""Replay from the archive on the real stack (issue 23, point 3): a topic whose early
segments retention deleted, replayed from its archive and then from the log's handoff
offsets, equals an oracle over every event ever produced; without an archive the replay
is refused and creates nothing.

As in test_retention, the first `OLD` records of each partition carry Kafka timestamps
of 2020 and the topic's small segments roll at `OLD`: once the topic is declared with a
day of retention (after the archive has read them), Kafka deletes exactly those. The
archive is stopped before the tail is produced, so the tail is in the log only and the
handoff is one past the history in each partition. A record without a value and one that
is not JSON in each part check that the archive side leaves out what runs skip or route.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kappanb.cli import main
from kappanb.core.names import output_table
from kappanb.exceptions import ArchiveNotFoundError, ArchiveReplayError
from kappanb.flink.rest import FlinkRest
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import Catalog, committed_rows, table_exists
from kappanb.tables.read import read_table
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench, new_shell
from tests.oracles import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPIC, TABLE = "forgetful.rides.v1", "forgetful_rides"
KEPT, KEPT_TABLE = "kept.rides.v1", "kept_rides"
"""A second topic given the same records, whose log keeps everything: the replay from the
archive must equal its replay from offset 0."""
SCHEMA = "id BIGINT, ts TIMESTAMP(3), pad STRING"
IDS, WINDOWS = "forgetful_ids", "forgetful_minutes"
PARTITIONS, OLD, HISTORY, TAIL = 2, 1200, 1500, 400
OLD_MS = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp() * 1000)
RECENT_MS = int(time.time() * 1000) - 300_000
EVENT_START = datetime(2026, 12, 1, tzinfo=UTC)
PAD = "x" * 1000  # about 1,000 records a 1 MiB segment


def event(index: int, partition: int) -> tuple[int, datetime]:
    """The id and event time of a partition's ``index``-th event, in the order produced."""
    n = index * PARTITIONS + partition
    return n, EVENT_START + timedelta(seconds=n)


def produce(bootstrap: str, first: int, last: int, topic: str = TOPIC) -> None:
    """Events ``first`` to ``last - 1`` of each partition; below `OLD` (their offsets too)
    stamped in 2020."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for index in range(first, last):
        if index == OLD:  # no batch mixes 2020 and recent records: a segment rolls here
            assert producer.flush(60) == 0
        stamp = OLD_MS + index * 1000 if index < OLD else RECENT_MS + index
        for partition in range(PARTITIONS):
            n, ts = event(index, partition)
            text = {"id": n, "ts": ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3], "pad": PAD}
            producer.produce(topic, json.dumps(text).encode(), partition=partition,
                             timestamp=stamp)  # fmt: skip
        producer.poll(0)
    assert producer.flush(60) == 0


def oddities(bootstrap: str, topic: str = TOPIC) -> None:
    """A record without a value (partition 0) and one that is not JSON (partition 1): runs
    skip the first and route the second to the dead-letter topic; the archive keeps both."""
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, None, key=b"gone", partition=0, timestamp=RECENT_MS + HISTORY)
    producer.produce(topic, b"not JSON", partition=1, timestamp=RECENT_MS + HISTORY)
    assert producer.flush(30) == 0


def small_segments(bootstrap: str, topic: str = TOPIC) -> None:
    entry = ConfigEntry("segment.bytes", "1048576", incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[entry])
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.incremental_alter_configs([resource])[resource].result(timeout=30)


def log_starts(bootstrap: str, topic: str = TOPIC) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-archive-replay"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[0]
                for p in range(PARTITIONS)}  # fmt: skip
    finally:
        consumer.close()


def declare(wb: Workbench, **options: object) -> None:
    wb.topic(TOPIC, SCHEMA, partitions=PARTITIONS, table=TABLE, event_time="ts", **options)


def every_event(end: int = HISTORY + TAIL) -> pl.DataFrame:
    """The oracle's input: the first ``end`` events of both partitions."""
    rows = [event(o, p) for o in range(end) for p in range(PARTITIONS)]
    frame = pl.DataFrame(rows, schema=["id", "ts"], orient="row")
    return frame.with_columns(pl.col("ts").dt.replace_time_zone(None))


def nothing_made(wb: Workbench, stack: EmbeddedStack, jobs_before: int, job: str = IDS) -> None:
    catalog = stack.endpoints().catalog
    assert [r for r in wb.runs() if r.mode == "replay" and r.job == job] == []
    assert len(FlinkRest(stack.endpoints().flink_rest_url).jobs()) == jobs_before
    assert not table_exists(catalog, output_table(job, 1))


@pytest.fixture(scope="module")
def forgotten(stack: EmbeddedStack) -> Workbench:
    """The topic after its archive read `HISTORY` records of each partition and retention
    deleted the first `OLD` from the log, with `TAIL` more in the log only."""
    wb = fresh_workbench(stack)
    bootstrap = stack.endpoints().bootstrap_servers
    declare(wb)
    wb.topic(KEPT, SCHEMA, partitions=PARTITIONS, table=KEPT_TABLE, event_time="ts")
    small_segments(bootstrap)
    for topic in (TOPIC, KEPT):
        produce(bootstrap, 0, HISTORY, topic)
        oddities(bootstrap, topic)
    for job, table in ((IDS, TABLE), (f"kept_{IDS}", KEPT_TABLE)):
        wb.job(job, f"SELECT id, ts FROM {table}")
    for job, table in ((WINDOWS, TABLE), (f"kept_{WINDOWS}", KEPT_TABLE)):
        wb.job(job, windows_sql(table))
    return wb


def windows_sql(table: str) -> str:
    return (
        "SELECT window_start, COUNT(*) AS n, SUM(id) AS total FROM TABLE(TUMBLE(TABLE "
        f"{table}, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end"
    )


def replayed_from_offset_0(wb: Workbench, job: str, catalog: Catalog, order: str) -> pl.DataFrame:
    """The output of ``job`` over the topic that kept everything, replayed from offset 0."""
    handle = wb.replay(job, until="latest")
    assert handle.wait(timeout=240), f"the replay of {job} did not finish: {wb.status(job)}"
    assert handle.run.start == "earliest"
    return read_table(catalog, handle.run.table).sort(order)


def test_without_an_archive_the_replay_is_refused_and_creates_nothing(
    forgotten: Workbench, stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    jobs_before = len(FlinkRest(stack.endpoints().flink_rest_url).jobs())
    with pytest.raises(ArchiveNotFoundError) as refused:
        forgotten.replay(IDS, start="archive", until="latest", watch=False)
    message = str(refused.value)
    assert f"replay {IDS} v1 --from archive: topic {TOPIC} has no archive" in message
    assert f"`archive {TOPIC}`" in message and "Nothing was started" in message
    shell = new_shell(forgotten)  # the magic twin says it in one line
    try:
        with pytest.raises(UsageError, match=f"topic {TOPIC} has no archive"):
            shell.run_line_magic("kappa", f"replay {IDS} --from archive")
    finally:
        InteractiveShell.clear_instance()
    monkeypatch.setenv("KAPPANB_HOME", str(forgotten.settings.home))
    assert main(["replay", IDS, "--from", "archive", "--until", "latest"]) != 0
    assert "has no archive" in capsys.readouterr().err
    nothing_made(forgotten, stack, jobs_before)


def test_a_replay_from_the_archive_gives_every_event_ever_produced(
    forgotten: Workbench, idle_stack: EmbeddedStack
) -> None:
    wb, bootstrap = forgotten, idle_stack.endpoints().bootstrap_servers
    catalog = idle_stack.endpoints().catalog
    archived = wb.archive(TOPIC)
    table = archived.run.table
    archived_rows = PARTITIONS * (HISTORY + 1)  # with the oddities
    count = eventually(lambda: committed_rows(catalog, table), lambda n: n == archived_rows, 180)
    assert count == archived_rows, wb.status(TOPIC)
    wb.archive(TOPIC, stop=True)  # what comes next is in the log only
    declare(wb, retention="1 d")
    starts = eventually(lambda: log_starts(bootstrap), lambda s: set(s.values()) == {OLD}, 120)
    assert set(starts.values()) == {OLD}, f"retention deleted no segment in 2 min: {starts}"
    for topic in (TOPIC, KEPT):
        produce(bootstrap, HISTORY, HISTORY + TAIL, topic)
        oddities(bootstrap, topic)
    handoff = f"{TOPIC}@0:{HISTORY + 1},1:{HISTORY + 1}"

    everything = every_event()
    handle = wb.replay(IDS, start="archive", until="latest")
    assert handle.wait(timeout=240), f"the bounded replay did not finish: {wb.status(IDS)}"
    run = handle.run
    assert (run.start, run.until) == ("archive", "latest")
    assert run.first_offsets == handoff  # one past what the archive holds
    assert run.archive_snapshots.startswith(f"{TOPIC}@")
    assert f"archive, then Kafka from {handoff}" in str(wb.status(IDS))
    out = read_table(catalog, run.table).sort("id")
    assert out.height == everything.height  # no gap, no overlap: each event once
    assert out.equals(everything.sort("id"))
    assert out.equals(replayed_from_offset_0(wb, f"kept_{IDS}", catalog, "id"))

    # It read the archive's rows, then the log from the handoff (the tail, no more): its
    # throughput counts both, over the Flink job's time.
    report = wb.retention(TOPIC)
    (rate,) = [r for r in report.rates if r.run_id == run.id]
    tail_read = PARTITIONS * (TAIL + 1)
    assert rate.from_archive == archived_rows
    assert rate.records == archived_rows + tail_read
    flink = FlinkRest(idle_stack.endpoints().flink_rest_url).job(run.flink_job_id)
    assert rate.seconds == pytest.approx(flink["duration"] / 1000)
    # The retention report says what the archive holds: what the log lost, and more.
    assert report.archive.upto == {p: HISTORY + 1 for p in range(PARTITIONS)}
    assert report.archive.rows == archived_rows
    assert not report.full_replay_from_log and report.full_replay_possible
    assert f"offsets 0-{HISTORY}" in str(report)
    # A full replay reads every record produced: the archive's, then the log's from the
    # handoff (the log alone has only what retention left: from OLD on).
    produced = PARTITIONS * (HISTORY + 1 + TAIL + 1)
    assert report.log_records == PARTITIONS * (HISTORY + 1 + TAIL + 1 - OLD)
    assert report.full_replay_records == report.eta_records == produced
    closing = rate.records / rate.seconds - report.extent.growth_per_s
    assert report.eta_s(rate) == pytest.approx(produced / closing)
    assert f"reading the {archived_rows:,} records of the archive, then the {tail_read:,}" in (
        str(report)
    )

    # A windowed job over the view: the union keeps the event time (a rowtime attribute).
    windowed = wb.replay(WINDOWS, start="archive", until="latest")
    assert windowed.wait(timeout=240), f"the windowed replay did not finish: {wb.status()}"
    oracle = (
        everything.group_by(pl.col("ts").dt.truncate("1m").alias("window_start"))
        .agg(pl.len().cast(pl.Int64).alias("n"), pl.col("id").sum().alias("total"))
        .sort("window_start")
    )
    got = read_table(catalog, windowed.run.table).sort("window_start")
    assert got.select("window_start", "n", "total").equals(oracle)
    kept = replayed_from_offset_0(wb, f"kept_{WINDOWS}", catalog, "window_start")
    assert got.equals(kept)

    # Unbounded: the archive, then the log on as records arrive; caught up at the head.
    unbounded = wb.replay(IDS, start="archive", new_table=True)
    assert unbounded.run.first_offsets == handoff
    assert unbounded.wait(timeout=240), f"the replay did not catch up: {wb.status(IDS)}"
    assert read_table(catalog, unbounded.run.table).sort("id").equals(everything.sort("id"))
    # Still running: its archive rows count once Flink's archive source has finished.
    measured = eventually(
        lambda: {r.run_id: r for r in wb.retention(TOPIC).rates}.get(unbounded.run.id),
        lambda r: r is not None and r.records == archived_rows + tail_read, 60,
    )  # fmt: skip
    assert measured is not None, f"not measured: {wb.retention(TOPIC).unmeasured}"
    assert measured.from_archive == archived_rows, wb.status(IDS)
    assert measured.records == archived_rows + tail_read, wb.status(IDS)
    produce(bootstrap, HISTORY + TAIL, HISTORY + TAIL + 50)
    assert unbounded.wait(timeout=120), f"it did not catch up again: {wb.status(IDS)}"
    more = every_event(HISTORY + TAIL + 50).sort("id")
    assert read_table(catalog, unbounded.run.table).sort("id").equals(more)
    wb.stop(IDS, 1)


def test_an_archive_behind_what_retention_deleted_is_refused_and_creates_nothing(
    forgotten: Workbench, idle_stack: EmbeddedStack
) -> None:
    """The archive read the first `EARLY` events of each partition and was stopped; then
    retention deleted up to `OLD`: the offsets between are in neither."""
    wb, topic, job, early = forgotten, "forgetful.gaps.v1", "forgetful_gaps", 300
    bootstrap, catalog = idle_stack.endpoints().bootstrap_servers, idle_stack.endpoints().catalog
    wb.topic(topic, SCHEMA, partitions=PARTITIONS, table="forgetful_gaps_t", event_time="ts")
    small_segments(bootstrap, topic)
    produce(bootstrap, 0, early, topic)
    table = wb.archive(topic).run.table
    rows = eventually(lambda: committed_rows(catalog, table), lambda n: n == 2 * early, 180)
    assert rows == PARTITIONS * early, wb.status(topic)
    wb.archive(topic, stop=True)
    produce(bootstrap, early, OLD + 100, topic)
    wb.topic(topic, SCHEMA, partitions=PARTITIONS, table="forgetful_gaps_t", event_time="ts",
             retention="1 d")  # fmt: skip
    starts = eventually(lambda: log_starts(bootstrap, topic), lambda s: set(s.values()) == {OLD},
                        120)  # fmt: skip
    assert set(starts.values()) == {OLD}, f"retention deleted no segment in 2 min: {starts}"
    wb.job(job, "SELECT id FROM forgetful_gaps_t")
    jobs_before = len(FlinkRest(idle_stack.endpoints().flink_rest_url).jobs())
    with pytest.raises(ArchiveReplayError) as refused:
        wb.replay(job, start="archive", watch=False)
    message = str(refused.value)
    assert f"the archive of {topic} holds up to offset {early - 1} of partition 0" in message
    assert f"the log starts at {OLD}: offsets {early} to {OLD - 1} are in neither" in message
    assert "Nothing was started" in message and "--from earliest-available" in message
    nothing_made(wb, idle_stack, jobs_before, job)
