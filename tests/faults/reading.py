"""How far a Flink job has read its topic, as the fault trials measure it before a kill.

Two witnesses, the further one counts:

- the positions Flink's metrics report, at most 0.5 s late. Flink's JobManager refreshes
  its metric store only once its wall clock has moved on since the last refresh, so after
  the clock steps back (as a laptop's, or a CI machine's, does) every position stays frozen
  for as long as the step (docs/reliability.md). A CI run saw six replays in a row finish
  while their positions said they had not begun;
- the offsets the job's consumer group committed, which Flink sends to Kafka on each
  completed checkpoint: one checkpoint late, but no clock step holds them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

from kappanb.flink.rest import FlinkRest
from kappanb.kafka.connection import KafkaConnection
from kappanb.runs.report import RunHandle
from kappanb.workbench import Workbench


def read_positions(rest: FlinkRest, job_id: str) -> int:
    """Records the job has read, by its Kafka sources' positions (offsets read, per partition,
    as Flink's metrics report them); 0 before it reports any. Unlike a task's record
    counter, a position is not reset by a restart."""
    from kappanb.monitor.sample import flink_figures

    positions = flink_figures(rest, job_id)["positions"]
    return sum(sum(p.values()) for p in positions.values())


@dataclass(frozen=True)
class Reader:
    """A Flink job that reads ``topic`` with consumer group ``group``."""

    rest: FlinkRest
    job_id: str
    kafka: KafkaConnection
    group: str
    topic: str

    @classmethod
    def of(cls, wb: Workbench, handle: RunHandle, topic: str) -> Reader:
        endpoints = wb.stack.endpoints()
        return cls(FlinkRest(endpoints.flink_rest_url), handle.run.flink_job_id,
                   endpoints.kafka, handle.run.group_id, topic)  # fmt: skip


class Reading:
    """`Reader`'s progress, asked as often as a trial polls: a consumer with the group's id
    (it joins no group and commits nothing) stays open to fetch the group's commits.

    Commits the group held when this was opened are an earlier run's (a live run's group
    outlives a --restart): they count only once they have changed."""

    def __init__(self, reader: Reader) -> None:
        from confluent_kafka import Consumer, TopicPartition

        self.reader = reader
        self._consumer: Any = Consumer(reader.kafka.client_config(
            {"group.id": reader.group, "enable.auto.commit": False}, log_level=3
        ))  # fmt: skip
        meta = self._consumer.list_topics(reader.topic, timeout=10).topics[reader.topic]
        self._partitions = [TopicPartition(reader.topic, p) for p in sorted(meta.partitions)]
        self._earlier = self.committed()

    def read(self) -> int:
        """Records read: the further of Flink's positions and the group's own commits."""
        committed = self.committed()
        own = committed if committed != self._earlier else 0
        return max(read_positions(self.reader.rest, self.reader.job_id), own)

    def committed(self) -> int:
        """The group's committed offsets, summed; 0 while its coordinator does not answer."""
        from confluent_kafka import KafkaException

        try:
            answer = self._consumer.committed(self._partitions, timeout=5)
        except KafkaException:
            return 0
        return sum(tp.offset for tp in answer if tp.error is None and tp.offset >= 0)

    def __enter__(self) -> Reading:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self._consumer.close()
