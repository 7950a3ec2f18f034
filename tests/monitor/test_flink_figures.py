"""Reading Flink's metric answers (as its REST API gives them) into a sample's figures."""

from __future__ import annotations

from typing import Any, cast

import pytest

from kappanb.flink.rest import FlinkRest
from kappanb.monitor.history import RunHistory
from kappanb.monitor.sample import Sample, flink_figures

SOURCE = "Source__payments[1]"
OFFSET = f"{SOURCE}.KafkaSourceReader.topic.payments_v1.partition.{{}}.currentOffset"
WATERMARK = f"{SOURCE}.currentOutputWatermark"


class AnsweringRest:
    """Flink's REST answers for one job with a source and a sink vertex (no I/O)."""

    def __init__(self, watermark: float, offsets: tuple[float, float] = (99.0, 149.0)) -> None:
        self.watermark, self.offsets = watermark, offsets

    def job(self, job_id: str) -> dict[str, Any]:
        return {"state": "FINISHED", "vertices": [{"id": "src", "name": "Source: payments"},
                                                  {"id": "sink", "name": "Sink"}]}  # fmt: skip

    def vertex_metric_names(self, job_id: str, vertex: str) -> list[str]:
        return [OFFSET.format(0), OFFSET.format(1), WATERMARK,
                f"{SOURCE}.numRecordsOutPerSecond"]  # fmt: skip

    def vertex_metrics(
        self, job_id: str, vertex: str, names: list[str], agg: str = "sum"
    ) -> dict[str, float]:
        answers = {
            OFFSET.format(0): self.offsets[0],
            OFFSET.format(1): self.offsets[1],
            WATERMARK: self.watermark,
            f"{SOURCE}.numRecordsOutPerSecond": 1200.0,
            "numRecordsInPerSecond": 10.0,
        }
        return {n: answers[n] for n in names if n in answers}  # fmt: skip


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        (1.7720000000005e12, 1_772_000_000_000),  # an event time (ms), as a float
        (9.223372036854776e18, None),  # Long.MAX_VALUE: the bounded input ended
        (-9.223372036854776e18, None),  # Long.MIN_VALUE: no watermark yet
    ],
)
def test_watermarks_that_are_no_event_time_are_left_out(
    reported: float, expected: int | None
) -> None:
    figures = flink_figures(cast(FlinkRest, AnsweringRest(reported)), "job")
    assert figures["positions"] == {"payments_v1": {0: 100, 1: 150}}  # next offsets
    assert figures["rate_in"] == 1200.0 and figures["rate_out"] == 10.0
    assert figures["watermark"] == (None if expected is None else pytest.approx(expected))
    history = RunHistory()
    history.add(Sample(at=1.0, state="FINISHED", watermark_ms=figures["watermark"]))
    assert history.frame().height == 1  # and the panel's frame can hold it


def test_a_partition_not_read_yet_falls_back_to_the_committed_offset() -> None:
    """Right after a restore from a checkpoint Flink reports -1 until the reader reads the
    partition again; that is not "the whole partition behind"."""
    rest = AnsweringRest(1.772e12, offsets=(99.0, -1.0))
    figures = flink_figures(cast(FlinkRest, rest), "job")
    assert figures["positions"] == {"payments_v1": {0: 100}}
    sample = Sample(
        at=1.0, state="RUNNING", read_positions=figures["positions"],
        end_offsets={"payments_v1": {0: 500, 1: 500}}, committed={"payments_v1": {1: 420}},
    )  # fmt: skip
    assert sample.behind() == {("payments_v1", 0): 400, ("payments_v1", 1): 80}


class WindowedRest(AnsweringRest):
    """The same job with a window aggregate that dropped late records (no I/O)."""

    LATE = "GlobalWindowAggregate[4].numLateRecordsDropped"

    def job(self, job_id: str) -> dict[str, Any]:
        vertices = [{"id": "src", "name": "Source: payments -> LocalWindowAggregate[2]"},
                    {"id": "win", "name": "GlobalWindowAggregate[4] -> Sink"}]  # fmt: skip
        return {"state": "RUNNING", "vertices": vertices}

    def vertex_metric_names(self, job_id: str, vertex: str) -> list[str]:
        if vertex == "win":
            return [self.LATE, "GlobalWindowAggregate[4].lateRecordsDroppedRate"]
        return super().vertex_metric_names(job_id, vertex)

    def vertex_metrics(
        self, job_id: str, vertex: str, names: list[str], agg: str = "sum"
    ) -> dict[str, float]:
        if vertex == "win":
            answers = {self.LATE: 42.0, "currentInputWatermark": 1.772e12}
            return {n: answers[n] for n in names if n in answers}
        return super().vertex_metrics(job_id, vertex, names, agg)


def test_late_records_a_window_dropped_are_counted_and_none_without_windows() -> None:
    assert flink_figures(cast(FlinkRest, WindowedRest(1.772e12)), "job")["late_dropped"] == 42
    assert flink_figures(cast(FlinkRest, AnsweringRest(1.772e12)), "job")["late_dropped"] is None
