"""Replays from a timestamp or from partition offsets, and a run that fails in Flink."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from confluent_kafka import Producer

from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.kafka.topics import end_offsets
from kappanb.stack.embedded import EmbeddedStack
from tests.magics.conftest import Magic, fresh_workbench
from tests.oracles import eventually

pytestmark = pytest.mark.integration

TOPIC = "positions.payments.v1"
COUNTS = "SELECT merchant_id, COUNT(*) AS n FROM pos_payments GROUP BY merchant_id"


def _counts(events: list[dict[str, object]]) -> dict[str, int]:
    return dict(Counter(str(e["merchant_id"]) for e in events))


def test_replay_from_a_timestamp_and_from_offsets_reads_only_what_follows(
    kappa: Magic, stack: EmbeddedStack
) -> None:
    workbench = fresh_workbench(stack)
    workbench.topic(TOPIC, PAYMENTS_SCHEMA, partitions=2, table="pos_payments")
    kafka = stack.endpoints().kafka
    before = list(PaymentsGenerator(seed=21).events(2_000))
    workbench.produce(TOPIC, before)
    offsets = end_offsets(kafka, TOPIC)
    time.sleep(1.5)
    cut = datetime.now(UTC).isoformat()
    time.sleep(0.5)
    after = list(PaymentsGenerator(seed=22).events(1_500))
    workbench.produce(TOPIC, after)
    kappa("job pos_counts", COUNTS)

    rest = FlinkRest(stack.endpoints().flink_rest_url)
    by_time = kappa(f"replay pos_counts --from {cut} --until latest")
    assert rest.wait_for_state(by_time.run.flink_job_id, timeout=180) == "FINISHED"
    frame = workbench.read("pos_counts").collect()
    assert dict(zip(frame["merchant_id"], frame["n"], strict=True)) == _counts(after)

    spec = ",".join(f"{p}:{o}" for p, o in sorted(offsets.items()))
    by_offsets = kappa(f"replay pos_counts --from {spec} --until latest --new-table")
    assert by_offsets.run.start == spec
    assert rest.wait_for_state(by_offsets.run.flink_job_id, timeout=180) == "FINISHED"
    frame = workbench.read("pos_counts").collect()  # the newest run's table
    assert dict(zip(frame["merchant_id"], frame["n"], strict=True)) == _counts(after)


def _run_over_a_poison_event(kappa: Magic, stack: EmbeddedStack, name: str, policy: str) -> None:
    """Topic ``NAME.payments.v1`` (table ``NAME_payments``) holding one event that is not
    JSON, and a live run of job ``NAME_counts`` over it."""
    topic = f"{name}.payments.v1"
    kappa(f"topic {topic} --schema payments --table {name}_payments {policy}".strip())
    producer = Producer({"bootstrap.servers": stack.endpoints().bootstrap_servers, "log_level": 3})
    producer.produce(topic, b"this is not JSON")
    assert producer.flush(10) == 0
    kappa(f"job {name}_counts", COUNTS.replace("pos_payments", f"{name}_payments"))
    kappa(f"run {name}_counts")


@pytest.mark.faults
def test_a_run_that_fails_in_flink_shows_failed_with_its_exception(
    kappa: Magic, stack: EmbeddedStack
) -> None:
    # Malformed events go to a dead-letter topic by default; fail-fast is the topic's choice.
    _run_over_a_poison_event(kappa, stack, "poison", "--on-malformed fail")
    workbench = fresh_workbench(stack)
    runs = eventually(
        lambda: workbench.status("poison_counts").rows,
        lambda rows: rows[0].run.state == "FAILED",
        timeout=150,
    )
    assert runs[0].run.state == "FAILED"
    error = runs[0].run.error or ""
    assert "this is not JSON" in error or "Unrecognized token 'this'" in error, error
    assert "\tat " not in error  # the cause, not a stack trace
    assert "FAILED" in str(kappa("status poison_counts"))
    assert "--on-malformed dlq" in error  # how to keep running instead


@pytest.mark.faults
def test_by_default_a_poison_event_goes_to_the_dead_letter_topic(
    kappa: Magic, stack: EmbeddedStack
) -> None:
    _run_over_a_poison_event(kappa, stack, "routed", "")
    workbench = fresh_workbench(stack)
    rows = eventually(
        lambda: workbench.status("routed_counts").rows,
        lambda rows: rows[0].malformed == 1,
        timeout=90,
    )
    assert rows[0].run.state == "RUNNING"
    assert "1 → routed.payments.v1.dlq" in str(kappa("status routed_counts"))
