"""A heartbeat to a topic's clock goes only once the run itself has read every partition up
to the heads its moment was taken at: a record still unread would come after it, late."""

from __future__ import annotations

from typing import Any

import pytest

from kappanb.core.schema import parse_columns
from kappanb.kafka.connection import KafkaConnection
from kappanb.monitor import release
from kappanb.monitor.holds import WatermarkHold
from kappanb.monitor.sample import Sample
from kappanb.registry.records import TopicSpec

TOPIC = TopicSpec(
    name="clock.payments.v1",
    table="clock_payments",
    columns=parse_columns("payment_id STRING, event_time TIMESTAMP(3)"),
    event_time="event_time",
    watermark_ms=30_000,
)
SPELLED = "clock_payments_v1"
HELD = WatermarkHold(TOPIC.name, 3, 13_000)
HEADS = {0: 7_500, 1: 7_400, 2: 7_600, 3: 7_500}
NEWEST = {TOPIC.name: {0: 86_000_000, 1: 86_010_000, 2: 86_020_000, 3: 86_007_000}}


class Recorded:
    """Stands in for `kappanb.kafka.clock.HEARTBEATS`: what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, _connection: Any, _topic: str, _columns: Any, _field: str, at: int) -> bool:
        self.sent.append(at)
        return True


@pytest.fixture
def heartbeats(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    recorded = Recorded()
    monkeypatch.setattr(release, "HEARTBEATS", recorded)
    return recorded


def _sample(read: dict[int, int], committed: dict[int, int], checkpoints: int = 0) -> Sample:
    return Sample(
        at=0.0,
        state="RUNNING",
        checkpoints=checkpoints,
        read_positions={SPELLED: read},
        committed={SPELLED: committed},
        end_offsets={SPELLED: dict(HEADS)},
        partition_event_ms=NEWEST,
    )


def _release(sample: Sample) -> bool:
    return release.release_hold(KafkaConnection.plain("b:1"), [TOPIC], HELD, sample)


def test_a_run_that_has_read_everything_gets_the_newest_moment(heartbeats: Recorded) -> None:
    assert _release(_sample(dict(HEADS), {}))
    assert heartbeats.sent == [86_020_000]


def test_no_heartbeat_while_a_few_records_are_unread(heartbeats: Recorded) -> None:
    # 979 records behind (the watch's threshold is 1,000): they would come after it, late.
    read = {**HEADS, 2: HEADS[2] - 979}
    assert not _release(_sample(read, {}))
    assert heartbeats.sent == []


def test_no_heartbeat_for_a_partition_the_job_has_no_position_for(heartbeats: Recorded) -> None:
    # A partition not read yet (Flink reports no position) whose group offset is an earlier
    # run's, at the head: before this job has committed, that offset says nothing of it.
    read = {p: at for p, at in HEADS.items() if p != 1}
    assert not _release(_sample(read, {1: HEADS[1]}, checkpoints=1))
    assert heartbeats.sent == []


def test_the_jobs_own_commits_count_as_read(heartbeats: Recorded) -> None:
    # Flink's position of partition 1 is stale (its metric store), the group's offset this
    # job committed after two checkpoints is at the head.
    read = {**HEADS, 1: HEADS[1] - 500}
    assert _release(_sample(read, {1: HEADS[1]}, checkpoints=2))
    assert heartbeats.sent == [86_020_000]


def test_read_to_heads_covers_every_partition_of_every_topic() -> None:
    other = {"other_v1": {0: 10}}
    sample = Sample(
        at=0.0,
        state="RUNNING",
        read_positions={SPELLED: dict(HEADS), "other_v1": {0: 9}},
        end_offsets={SPELLED: dict(HEADS), **other},
    )
    assert not sample.read_to_heads()
    assert Sample(at=0.0, state="RUNNING", end_offsets={SPELLED: {0: 0}}).read_to_heads()
