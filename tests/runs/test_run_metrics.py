"""`status`'s figures of a run on the real stack: records read and rows committed count on
across a stop with a savepoint and a resume (Flink's own counters start again at 0), and
the malformed events stay counted once (issue 18, point 10)."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.kafka.run_offsets import group_offsets
from kappanb.runs.report import RunStatus
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench
from tests.oracles import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPIC, TABLE, JOB = "counted.payments.v1", "counted_payments", "counted_captures"
SQL = f"SELECT payment_id, amount_cents FROM {TABLE}"
BAD = [b"not JSON", b'{"payment_id": "p", "amount_cents": "lots"}']


def row(workbench: Workbench) -> RunStatus:
    (status,) = [s for s in workbench.status(JOB).rows if s.run.active]
    return status


def figures(workbench: Workbench) -> tuple[int | None, int | None, str]:
    s = row(workbench)
    return s.records_in, s.records_out, s.malformed_text


def why(workbench: Workbench, seen: list[tuple[int | None, int | None, str]]) -> str:
    """What the figures were made of, for a failure's message."""
    run = row(workbench).run
    endpoints = workbench.stack.endpoints()
    rest = FlinkRest(endpoints.flink_rest_url)
    try:
        counts = rest.checkpoints(run.flink_job_id).get("counts")
        state = rest.job_state(run.flink_job_id)
        committed = group_offsets(endpoints.kafka, run.group_id, [TOPIC])
    except Exception as exc:
        return f"last figures {seen[-3:]}; could not ask: {exc!r}"
    return (
        f"last figures {seen[-3:]}; resumed job {run.flink_job_id} {state}, checkpoints "
        f"{counts}; group {run.group_id} committed {committed}"
    )


def test_records_read_and_rows_committed_survive_a_stop_and_resume(
    idle_stack: EmbeddedStack,
) -> None:
    workbench = fresh_workbench(idle_stack)
    workbench.topic(TOPIC, PAYMENTS_SCHEMA, event_time="event_time", partitions=2, table=TABLE)
    events = list(PaymentsGenerator(seed=31).events(12_000))
    workbench.produce(TOPIC, events)
    producer = Producer({"bootstrap.servers": idle_stack.endpoints().bootstrap_servers})
    for value in BAD:
        producer.produce(TOPIC, value, partition=1)
    assert producer.flush(30) == 0
    total = len(events) + len(BAD)  # every offset is read, malformed or not

    workbench.job(JOB, SQL)
    workbench.run(JOB, watch=False)
    whole = (total, len(events), f"2 → {TOPIC}.dlq")
    before = eventually(lambda: figures(workbench), lambda f: f == whole, 120)
    assert before == whole

    stopped = workbench.stop(JOB, 1, savepoint=True)
    assert stopped.run.savepoint
    workbench.resume(JOB, 1)
    # Nothing new to read: Flink's counters of the resumed job stay at 0. The figures are
    # never lower than before: at most unknown ("?") until the resumed job's first
    # checkpoint says where the restore put it.
    seen: list[tuple[int | None, int | None, str]] = []

    def probe() -> tuple[int | None, int | None, str]:
        seen.append(figures(workbench))
        return seen[-1]

    assert eventually(probe, lambda f: f == whole, 120) == whole, why(workbench, seen)
    for records_in, records_out, malformed in seen:
        assert records_in is None or records_in >= before[0], seen
        assert records_out is not None and records_out >= len(events), seen
        assert malformed == whole[2], seen

    more = list(PaymentsGenerator(seed=32).events(3_000))
    workbench.produce(TOPIC, more)
    after = (total + len(more), len(events) + len(more), f"2 → {TOPIC}.dlq")
    assert eventually(lambda: figures(workbench), lambda f: f == after, 120) == after
    assert "records read" in str(workbench.status(JOB)).splitlines()[0]
