"""Timestamps as writers send them (ISO-8601 with a T, SQL with a space, 0 to 9 fractional
digits, with or without an offset) are read on the real stack, for every kind of topic: routed
to a DLQ, fail-fast, and compacted (issue 18). A text that is no timestamp is still malformed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kappanb.flink.rest import FlinkRest
from kappanb.kafka.dead_letters import read_records
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench
from tests.oracles import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCHEMA = "id STRING NOT NULL, ts TIMESTAMP(3), lts TIMESTAMP_LTZ(3), us TIMESTAMP(6)"
COPY = "SELECT id, ts, lts, us FROM {table}"
AT = datetime(2026, 1, 5, 5, 37, 8, tzinfo=UTC)
FORMS: dict[str, tuple[str, datetime]] = {  # id: (the text of every column, its UTC instant)
    "iso_millis": ("2026-01-05T05:37:08.809", AT.replace(microsecond=809_000)),
    "sql_millis": ("2026-01-05 05:37:08.809", AT.replace(microsecond=809_000)),
    "iso_seconds": ("2026-01-05T05:37:08", AT),
    "sql_seconds": ("2026-01-05 05:37:08", AT),
    "iso_micros": ("2026-01-05T05:37:08.809123", AT.replace(microsecond=809_123)),
    "sql_nanos": ("2026-01-05 05:37:08.809123456", AT.replace(microsecond=809_123)),
    "iso_z": ("2026-01-05T05:37:08.809Z", AT.replace(microsecond=809_000)),
    "iso_plus": ("2026-01-05T11:07:08.809123+05:30", AT.replace(microsecond=809_123)),
    "sql_minus": ("2026-01-04 21:37:08-0800", AT),
    "iso_minutes": ("2026-01-05T05:37", AT.replace(second=0)),
}
BAD = {  # id: (event, what its DLQ reason must say)
    "bad_separator": (
        {"ts": "2026-01-05X05:37:08"},
        "bad timestamp: field 'ts' is \"2026-01-05X05:37:08\", not a TIMESTAMP(3): "
        "character 11 is 'X', not a T or a space",
    ),
    "bad_date": (
        {"lts": "2026-02-30T00:00:00Z"},
        "field 'lts' is \"2026-02-30T00:00:00Z\", not a TIMESTAMP_LTZ(3): the date 2026-02-30",
    ),
    "bad_number": ({"us": 1767591428809}, "field 'us' is 1767591428809, not a TIMESTAMP(6)"),
}


def _events() -> list[dict[str, Any]]:
    return [{"id": name, "ts": text, "lts": text, "us": text} for name, (text, _) in FORMS.items()]


def _expected() -> dict[str, tuple[datetime, datetime, datetime]]:
    """ts and lts keep milliseconds (truncated), us microseconds."""
    millis = {n: t - timedelta(microseconds=t.microsecond % 1000) for n, (_, t) in FORMS.items()}
    return {n: (millis[n], millis[n], t) for n, (_, t) in FORMS.items()}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _output(workbench: Workbench, job: str) -> dict[str, tuple[datetime, ...]]:
    frame = workbench.read(job).collect()
    return {
        row["id"]: tuple(_utc(row[c]) for c in ("ts", "lts", "us"))
        for row in frame.iter_rows(named=True)
    }


def _copy_job(workbench: Workbench, topic: str, table: str, **options: Any) -> str:
    workbench.topic(topic, SCHEMA, table=table, **options)
    job = f"{table}_copy"
    key = [options["key"]] if options.get("compact") else None  # a table: upserts by its key
    workbench.job(job, COPY.format(table=table), key=key)
    return job


def test_every_form_is_read_and_a_bad_timestamp_is_dead_lettered_with_its_reason(
    idle_stack: EmbeddedStack,
) -> None:
    workbench = fresh_workbench(idle_stack)
    job = _copy_job(workbench, "stamps.routed.v1", "stamps_routed", event_time="ts")
    good = {"ts": "2026-01-05T05:37:08", "lts": "2026-01-05T05:37:08", "us": "2026-01-05T05:37"}
    bad = [{"id": name, **good, **event} for name, (event, _) in BAD.items()]
    workbench.produce("stamps.routed.v1", _events() + bad)
    handle = workbench.replay(job, until="latest")
    rest = FlinkRest(idle_stack.endpoints().flink_rest_url)
    assert rest.wait_for_state(handle.run.flink_job_id, timeout=180) == "FINISHED"
    assert _output(workbench, job) == _expected()

    kafka = idle_stack.endpoints().kafka
    records = eventually(
        lambda: read_records(kafka, "stamps.routed.v1.dlq"), lambda r: len(r) >= len(BAD), 60
    )
    reasons = {r["payload"]: r["reason"] for r in records}
    assert len(reasons) == len(BAD)  # the bad ones, and none of the good forms
    for event, (_, says) in zip(bad, BAD.values(), strict=True):
        (reason,) = [why for payload, why in reasons.items() if f'"{event["id"]}"' in payload]
        assert says in reason, (says, reason)
        assert "accepted: 2026-01-05T05:37:08.809" in reason  # what to send instead


def test_fail_fast_and_compacted_topics_read_every_form(idle_stack: EmbeddedStack) -> None:
    workbench = fresh_workbench(idle_stack)
    strict = _copy_job(workbench, "stamps.strict.v1", "stamps_strict", on_malformed="fail")
    workbench.produce("stamps.strict.v1", _events())
    handle = workbench.replay(strict, until="latest")
    rest = FlinkRest(idle_stack.endpoints().flink_rest_url)
    assert rest.wait_for_state(handle.run.flink_job_id, timeout=180) == "FINISHED"
    assert _output(workbench, strict) == _expected()

    table = _copy_job(workbench, "stamps.table.v1", "stamps_table", compact=True, key="id")
    workbench.produce("stamps.table.v1", _events())
    live = workbench.run(table, watch=False)
    got = eventually(lambda: _output(workbench, table), lambda o: o == _expected(), 180)
    assert got == _expected()
    workbench.stop(table, live.run.version)


def test_a_bad_timestamp_fails_a_fail_fast_run_with_its_reason(idle_stack: EmbeddedStack) -> None:
    workbench = fresh_workbench(idle_stack)
    job = _copy_job(workbench, "stamps.poison.v1", "stamps_poison", on_malformed="fail")
    workbench.produce("stamps.poison.v1", [{"id": "x", "ts": "yesterday", "lts": None, "us": None}])
    workbench.run(job, watch=False)
    rows = eventually(
        lambda: workbench.status(job).rows, lambda r: r[0].run.state == "FAILED", timeout=150
    )
    error = rows[0].run.error or ""
    assert "bad timestamp: field 'ts' is \"yesterday\", not a TIMESTAMP(3)" in error, error
    assert "--on-malformed dlq" in error  # how to keep running instead
