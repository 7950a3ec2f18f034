"""Retention on the real stack (issue 23, point 2): a topic whose early segments Kafka
really deleted, its `retention` report checked against what the test produced and
measured, and a replay from earliest refused with nothing created.

The first `OLD` records of each partition carry Kafka timestamps of 2020, the rest
timestamps of the last few minutes. The topic keeps records a day: the 2020 segments
(small ones, several) are past it at once and go at the broker's next retention check,
and the jump in time rolls a new segment at offset `OLD` (a segment rolls when its
records span more than ``segment.ms``), so the log then starts exactly there.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)
from IPython.core.interactiveshell import InteractiveShell

from kappanb.cli import main
from kappanb.core.names import output_table
from kappanb.core.positions import read_range
from kappanb.exceptions import HistoryGoneError, SchemaError, UnknownTopicError
from kappanb.flink.rest import FlinkRest
from kappanb.history.retention_report import RetentionReport, moment
from kappanb.kafka.topics import describe_topic
from kappanb.runs.retention import check_history
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import table_exists
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench, new_shell
from tests.oracles import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPIC, TABLE, JOB = "expiring.events.v1", "expiring_events", "expiring_ids"
SCHEMA = "id BIGINT, pad STRING"
PARTITIONS, OLD, PER_PARTITION = 2, 2000, 2500
OLD_MS = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp() * 1000)
RECENT_MS = int(time.time() * 1000) - 300_000  # five minutes before the test module began
SEGMENT_BYTES = 1_048_576  # Kafka 4's least segment.bytes: about 1,000 of these records
PAD = "x" * 1000


def produced_ms(offset: int) -> int:
    """The Kafka timestamp the test gave the record at ``offset`` (of either partition):
    a second apart in 2020 below `OLD`, a millisecond apart five minutes ago from there."""
    return OLD_MS + offset * 1000 if offset < OLD else RECENT_MS + offset - OLD


def produce(bootstrap: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for offset in range(PER_PARTITION):
        if offset == OLD:  # no batch mixes 2020 and recent records: the roll is at OLD
            assert producer.flush(60) == 0
        for partition in range(PARTITIONS):
            value = f'{{"id": {offset * PARTITIONS + partition}, "pad": "{PAD}"}}'
            producer.produce(TOPIC, value.encode(), partition=partition,
                             timestamp=produced_ms(offset))  # fmt: skip
        producer.poll(0)
    assert producer.flush(60) == 0


def small_segments(bootstrap: str) -> None:
    entry = ConfigEntry("segment.bytes", str(SEGMENT_BYTES),
                        incremental_operation=AlterConfigOpType.SET)  # fmt: skip
    resource = ConfigResource(ResourceType.TOPIC, TOPIC, incremental_configs=[entry])
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.incremental_alter_configs([resource])[resource].result(timeout=30)


def log_starts(bootstrap: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-retention"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[0]
                for p in range(PARTITIONS)}  # fmt: skip
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def expired(stack: EmbeddedStack) -> Workbench:
    """The topic, declared with a day of retention, after Kafka deleted its early segments."""
    wb = fresh_workbench(stack)
    bootstrap = stack.endpoints().bootstrap_servers
    wb.topic(TOPIC, SCHEMA, partitions=PARTITIONS, table=TABLE, retention="1 d")
    small_segments(bootstrap)
    produce(bootstrap)
    starts = eventually(lambda: log_starts(bootstrap), lambda s: all(s.values()), 120)
    assert all(starts.values()), f"retention deleted no segment in 2 min: {starts}"
    wb.job(JOB, f"SELECT id FROM {TABLE}")
    return wb


def test_the_retention_is_declared_in_kafka_and_the_registry(expired: Workbench) -> None:
    (spec,) = [t for t in expired.topics() if t.name == TOPIC]
    assert spec.retention_ms == 86_400_000
    assert "retention 24.0 h" in str(spec)
    config = describe_topic(expired.stack.endpoints().kafka, TOPIC).config
    assert config["retention.ms"] == "86400000"


def test_declaring_it_again_changes_the_retention_or_keeps_it(expired: Workbench) -> None:
    kafka = expired.stack.endpoints().kafka

    def declared() -> tuple[int | None, str]:
        (spec,) = [t for t in expired.topics() if t.name == TOPIC]
        return spec.retention_ms, describe_topic(kafka, TOPIC).config["retention.ms"]

    expired.topic(TOPIC, SCHEMA, partitions=PARTITIONS, table=TABLE, retention="2 d")
    assert declared() == (172_800_000, "172800000")
    expired.topic(TOPIC, SCHEMA, partitions=PARTITIONS, table=TABLE)  # not given: kept
    assert declared() == (172_800_000, "172800000")
    expired.topic(TOPIC, SCHEMA, partitions=PARTITIONS, table=TABLE, retention="1 d")
    assert declared() == (86_400_000, "86400000")


def test_the_magic_and_the_cli_give_the_same_report(
    expired: Workbench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shell = new_shell(expired)
    try:
        shown = shell.run_line_magic("kappa", f"retention {TOPIC} --window '30 min'")
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(shown, RetentionReport) and shown.extent.window_ms == 1_800_000
    monkeypatch.setenv("KAPPANB_HOME", str(expired.settings.home))
    assert main(["retention", TOPIC]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"topic {TOPIC}: retention 24.0 h;")
    assert re.search(rf"^0 +{OLD:,} ", printed, re.M)  # partition 0's first offset left
    assert main(["topics"]) == 0
    # its retention, and it follows no older version
    assert re.search(rf"^{re.escape(TOPIC)} .* 24\.0 h +-$", capsys.readouterr().out, re.M)


def test_the_report_gives_what_the_log_still_has(expired: Workbench) -> None:
    starts = log_starts(expired.stack.endpoints().bootstrap_servers)
    report = expired.retention(TOPIC)
    assert [p.partition for p in report.extent.partitions] == list(range(PARTITIONS))
    for p in report.extent.partitions:
        assert p.earliest == starts[p.partition] == OLD  # the 2020 records are gone
        assert p.head == PER_PARTITION
        assert p.earliest_ms == produced_ms(p.earliest)  # the timestamp the test gave it
        assert not p.from_zero
    assert not report.full_replay_from_log and not report.full_replay_possible
    assert report.log_records == PARTITIONS * (PER_PARTITION - OLD)
    assert report.extent.retention_ms == 86_400_000
    recent = PARTITIONS * (PER_PARTITION - OLD)
    assert report.extent.growth_per_s == pytest.approx(recent / 3600)  # over the last hour
    assert not report.rates and report.unmeasured == "no replay of a job reading it has run yet"
    text = str(report)
    assert "no archive" in text and "a full replay is not possible" in text
    assert moment(produced_ms(starts[0])) in text
    assert "replay throughput: not measured (no replay" in text
    assert "<table" in report._repr_html_()


def test_a_replay_from_earliest_is_refused_and_creates_nothing(expired: Workbench) -> None:
    endpoints = expired.stack.endpoints()
    rest = FlinkRest(endpoints.flink_rest_url)
    jobs_before = len(rest.jobs())
    with pytest.raises(HistoryGoneError) as refused:
        expired.replay(JOB, watch=False)
    message = str(refused.value)
    assert f"replay {JOB} v1 --from earliest needs records of {TOPIC}" in message
    assert "Nothing was started" in message
    assert "no archive" in message  # the report is in it
    starts = log_starts(endpoints.bootstrap_servers)
    newest = moment(max(produced_ms(s) for s in starts.values()))
    assert f"--from {newest}" in message and "--from earliest-available" in message
    assert expired.runs(JOB) == []
    assert len(rest.jobs()) == jobs_before
    assert not table_exists(endpoints.catalog, output_table(JOB, 1))


def test_a_start_before_what_is_left_is_refused_and_one_after_it_is_not(
    expired: Workbench,
) -> None:
    endpoints = expired.stack.endpoints()
    rest = FlinkRest(endpoints.flink_rest_url)
    topics = [t for t in expired.topics() if t.name == TOPIC]
    version = expired.show(JOB)
    starts = log_starts(endpoints.bootstrap_servers)

    def check(start: str) -> None:
        check_history(expired.registry, rest, endpoints.kafka, version, topics,
                      read_range(start, None))  # fmt: skip

    for refused in ("2019-12-31", "0:0,1:0", f"0:{starts[0]}"):  # partition 1 from 0
        with pytest.raises(HistoryGoneError):
            check(refused)
    newest = moment(max(produced_ms(s) for s in starts.values()))
    for allowed in (newest, f"0:{starts[0]},1:{starts[1]}", "earliest-available", "latest"):
        check(allowed)


def test_a_replay_of_what_is_left_measures_the_headroom(
    expired: Workbench, idle_stack: EmbeddedStack
) -> None:
    handle = expired.replay(JOB, start="earliest-available", until="latest")
    assert handle.wait(timeout=180), "the bounded replay did not finish in 3 min"
    flink = FlinkRest(idle_stack.endpoints().flink_rest_url).job(handle.run.flink_job_id)
    assert handle.run.first_offsets == f"{TOPIC}@0:{OLD},1:{OLD}"  # where it began
    assert handle.run.end_offsets == f"{TOPIC}@0:{PER_PARTITION},1:{PER_PARTITION}"

    report: RetentionReport = expired.retention(TOPIC)
    (rate,) = report.rates
    assert (rate.job, rate.version, rate.run_id) == (JOB, 1, handle.run.id)
    assert rate.records == PARTITIONS * (PER_PARTITION - OLD)  # it read all that is left
    assert rate.seconds == pytest.approx(flink["duration"] / 1000)
    growth = PARTITIONS * (PER_PARTITION - OLD) / 3600
    assert report.extent.growth_per_s == pytest.approx(growth)
    per_s = rate.records / rate.seconds
    assert rate.per_s == pytest.approx(per_s)
    assert report.headroom(rate) == pytest.approx(per_s / growth)
    assert report.eta_s(rate) == pytest.approx(report.log_records / (per_s - growth))
    assert f"{per_s / growth:,.1f}x" in str(report)


def test_the_wrong_ways_say_what_to_do_and_create_nothing(expired: Workbench) -> None:
    with pytest.raises(UnknownTopicError, match=r"unknown topic 'nope\.v1'"):
        expired.retention("nope.v1")
    kafka = expired.stack.endpoints().kafka
    for wrong, says in (
        ("soon", "is not a time to keep records"),
        ("0 s", "is not a time to keep records"),
        ("-3 d", "is not a time to keep records"),
    ):
        with pytest.raises(SchemaError, match=says):
            expired.topic("never.made.v1", SCHEMA, retention=wrong)
    with pytest.raises(SchemaError, match="drop --retention or --compact"):
        expired.topic("never.made.v1", "id STRING", compact=True, key="id", retention="7 d")
    assert "never.made.v1" not in [t.name for t in expired.topics()]
    with pytest.raises(Exception, match="does not exist"):
        describe_topic(kafka, "never.made.v1")
    with pytest.raises(SchemaError, match="is not a duration"):
        expired.retention(TOPIC, window="lately")
