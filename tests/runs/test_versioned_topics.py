"""Versioned topics on the real stack (issue 23, point 5): a job reads ``v2`` of a topic,
which follows ``v1`` through a mapping (a renamed event-time column, a fare in dollars as
a DOUBLE become cents as a BIGINT). A replay covers both versions in event-time order:
its windows, one of them spanning the switch from v1 to v2, equal an oracle over the
mapped v1 events and the v2 events. Records an outside producer appends to v1 after the
cut are not read. Wrong declarations and events for the sealed v1 are refused with what
to do, and create or send nothing. A malformed v1 record goes to v1's dead-letter topic.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from confluent_kafka import Producer
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kappanb.exceptions import SealedTopicError, TopicMappingError
from kappanb.flink.sql import FlinkSqlClient
from kappanb.kafka.run_offsets import head_offsets
from kappanb.kafka.topics import topic_exists
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.read import read_table
from kappanb.versions import chain, following
from kappanb.versions.definitions import topic_spec
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench, new_shell

pytestmark = [pytest.mark.integration, pytest.mark.slow]

V1, V2, JOB = "chained.trips.v1", "chained.trips.v2", "chained_fares"
V1_SCHEMA = "trip_id STRING, fare DOUBLE, ts TIMESTAMP(3)"
V2_SCHEMA = "trip_id STRING, fare_cents BIGINT, event_time TIMESTAMP(3)"
MAPPING = {"fare_cents": "CAST(ROUND(fare * 100, 0) AS BIGINT)", "event_time": "ts"}
N1, N2, PARTITIONS = 1200, 800, 3  # v1's partition 2 stays empty: its cut is 0
START = datetime(2026, 12, 1, tzinfo=UTC)
STEP = timedelta(milliseconds=250)  # 2,000 events over 500 s: 9 one-minute windows
WINDOWED = (
    "SELECT window_start, window_end, COUNT(*) AS n, SUM(fare_cents) AS cents FROM TABLE("
    "TUMBLE(TABLE chained_trips_v2, DESCRIPTOR(event_time), INTERVAL '1' MINUTE)) "
    "GROUP BY window_start, window_end"
)


def text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def v1_event(i: int) -> dict[str, object]:
    return {"trip_id": f"a{i}", "fare": (i % 97) + 0.25 * (i % 4), "ts": text(START + i * STEP)}


def v2_event(j: int) -> dict[str, object]:
    moment = text(START + (N1 + j) * STEP)
    return {"trip_id": f"b{j}", "fare_cents": 100 + j % 500, "event_time": moment}


def produce_v1(bootstrap: str, events: list[dict[str, object]]) -> None:
    """Into partitions 0 and 1 alike, as a producer outside kappanb does."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i, event in enumerate(events):
        producer.produce(V1, json.dumps(event).encode(), partition=i % 2)
    assert producer.flush(60) == 0


def oracle(n2: int = N2, closed_by: int | None = None) -> pl.DataFrame:
    """The windows over the mapped v1 events and the first ``n2`` v2 events; with
    ``closed_by``, those that end by the event time of event number ``closed_by``."""
    rows = [(START + i * STEP, round(((i % 97) + 0.25 * (i % 4)) * 100)) for i in range(N1)]
    rows += [(START + (N1 + j) * STEP, 100 + j % 500) for j in range(n2)]
    frame = pl.DataFrame(rows, schema=["ts", "cents"], orient="row", strict=False)
    frame = frame.with_columns(pl.col("ts").dt.replace_time_zone(None))
    windows = (
        frame.group_by(pl.col("ts").dt.truncate("1m").alias("window_start"))
        .agg(pl.len().cast(pl.Int64).alias("n"), pl.col("cents").sum().cast(pl.Int64))
        .sort("window_start")
    )
    if closed_by is None:
        return windows
    newest = (START + closed_by * STEP).replace(tzinfo=None)
    return windows.filter(pl.col("window_start") + timedelta(minutes=1) <= newest)


def output(wb: Workbench, table: str) -> pl.DataFrame:
    catalog = wb.stack.endpoints().catalog
    got = read_table(catalog, table).sort("window_start")
    return got.select("window_start", "n", pl.col("cents").cast(pl.Int64))


@pytest.fixture(scope="module")
def chained(stack: EmbeddedStack) -> Workbench:
    """v1 with its events, then the refused declarations, then v2 following v1."""
    wb = fresh_workbench(stack)
    bootstrap = stack.endpoints().bootstrap_servers
    wb.topic(V1, V1_SCHEMA, event_time="ts", partitions=PARTITIONS)
    produce_v1(bootstrap, [v1_event(i) for i in range(N1)])
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(V1, b"not JSON", partition=0)  # before the cut: v1's dead letters
    assert producer.flush(30) == 0
    return wb


def test_wrong_declarations_say_what_to_do_and_create_nothing(
    chained: Workbench, stack: EmbeddedStack
) -> None:
    kafka = stack.endpoints().kafka
    wrong = {
        "fare_usd": ({**MAPPING, "fare_cents": "CAST(fare_usd * 100 AS BIGINT)"},
                     "'fare_usd' is not a column of chained.trips.v1"),
        "unmapped": ({"event_time": "ts"}, "column 'fare_cents' of chained.trips.v2 has no"),
        # Only Flink knows this one: a TIMESTAMP does not cast to a BIGINT.
        "types": ({**MAPPING, "fare_cents": "ts"}, "does not plan in Flink"),
        "function": ({**MAPPING, "fare_cents": "NO_SUCH_FUNCTION(fare)"},
                     "does not plan in Flink: .*NO_SUCH_FUNCTION"),
        # What kappanb guards itself: a mapping reads the older record, nothing else.
        "subquery": ({**MAPPING, "fare_cents": "(SELECT MAX(fare) FROM chained_trips_v1)"},
                     "SELECT would read another table"),
        "comment": ({**MAPPING, "fare_cents": "CAST(fare AS BIGINT) --"},
                    "one SQL expression"),
    }  # fmt: skip
    for mapping, says in wrong.values():
        with pytest.raises(TopicMappingError, match=says) as refused:
            chained.topic(V2, V2_SCHEMA, event_time="event_time", follows=V1, mapping=mapping)
        assert "Nothing was created" in str(refused.value)
    assert [t.name for t in chained.topics() if t.name.startswith("chained.")] == [V1]
    assert not topic_exists(kafka, V2) and not topic_exists(kafka, f"{V2}.dlq")


ACCEPTED = [
    {"fare_cents": "COALESCE(CAST(fare * 100 AS BIGINT), 0)", "event_time": "ts"},
    {**MAPPING, "trip_id": "REGEXP_REPLACE(trip_id, '^a', 'v1-')"},
    {"fare_cents": "CASE WHEN fare IS NULL THEN NULL WHEN fare < 0 THEN 0 "
                   "ELSE CAST(ROUND(fare * 100, 0) AS BIGINT) END", "event_time": "ts"},
    {**MAPPING, "event_time": "TO_TIMESTAMP_LTZ(1764547200000 + CAST(fare AS BIGINT), 3)"},
    {**MAPPING, "fare_cents": "JSON_VALUE(trip_id, '$.cents' RETURNING INT "
                              "DEFAULT 0 ON EMPTY DEFAULT 0 ON ERROR)"},
    # SCALAR is in no word list of kappanb's: Flink's plan is what says it is SQL.
    {**MAPPING, "fare_cents": "CASE WHEN trip_id IS JSON SCALAR THEN 0 ELSE CAST(fare AS "
                              "BIGINT) END"},
]  # fmt: skip


def test_a_mapping_flink_plans_is_accepted_whatever_sql_words_it_uses(
    chained: Workbench, stack: EmbeddedStack
) -> None:
    """kappanb's own check lets any expression through that stays an expression over the
    older record; Flink plans each of these, so each is accepted (declared on its own)."""
    endpoints = stack.endpoints()
    older = next(t for t in chained.topics() if t.name == V1)
    client = FlinkSqlClient(endpoints)
    for mapping in ACCEPTED:
        spec = topic_spec(V2, V2_SCHEMA, event_time="event_time", follows=V1, mapping=mapping)
        assert chain.check_follows(spec, chained.topics()) == older
        following.check_planned(client, endpoints, older, spec)  # raises if refused
    # End to end too, on a topic pair of its own: declared, and its chain read.
    wb = chained
    wb.topic("words.trips.v1", V1_SCHEMA, event_time="ts", partitions=1)
    wb.produce("words.trips.v1", [v1_event(i) for i in range(3)])
    wb.topic("words.trips.v2", V2_SCHEMA, event_time="event_time", follows="words.trips.v1",
             mapping=ACCEPTED[-1])  # fmt: skip
    assert "words.trips.v2" in [t.name for t in wb.topics()]
    # Declaring v1 again without a column v2's mapping reads: Flink plans the mapping over
    # the new v1, refuses it, and nothing changes.
    before = next(t for t in wb.topics() if t.name == "words.trips.v1")
    with pytest.raises(TopicMappingError, match=r"'fare' is not a column of words\.trips\.v1"):
        wb.topic("words.trips.v1", "trip_id STRING, ts TIMESTAMP(3)", event_time="ts")
    assert next(t for t in wb.topics() if t.name == "words.trips.v1") == before


def test_a_replay_reads_both_versions_in_event_time_order_up_to_the_cut(
    chained: Workbench, idle_stack: EmbeddedStack
) -> None:
    wb, kafka = chained, idle_stack.endpoints().kafka
    bootstrap = idle_stack.endpoints().bootstrap_servers
    ends = head_offsets(kafka, [V1])[V1]
    v2 = wb.topic(V2, V2_SCHEMA, event_time="event_time", follows=V1, mapping=MAPPING)
    assert v2.cut_offsets == ends == {0: N1 // 2 + 1, 1: N1 // 2, 2: 0}
    assert f"follows {V1} up to {v2.cut}" in str(v2)

    with pytest.raises(SealedTopicError) as refused:  # the sealed v1 takes no more events
        wb.produce(V1, [v1_event(0)])
    assert f"{V1} is sealed: {V2} follows it since" in str(refused.value)
    assert f"produce to {V2}" in str(refused.value)
    shell = new_shell(wb)  # the magic twin says it in one line
    try:
        shell.user_ns["late"] = [v1_event(0)]
        with pytest.raises(UsageError, match=f"{V1} is sealed"):
            shell.run_line_magic("kappa", f"produce {V1} late")
    finally:
        InteractiveShell.clear_instance()
    assert head_offsets(kafka, [V1])[V1] == ends
    assert "past its cut" not in str(wb.status())
    produce_v1(bootstrap, [v1_event(i) for i in range(5)])  # an outside producer: past the cut
    # status says so, per partition (i % 2: three in partition 0, two in partition 1).
    warning = (
        f"warning: {V1} has 5 records past its cut (partition 0: 3, partition 1: 2): no run "
        f"of {V2} reads them (it reads {V1} up to the cut); produce them to {V2}"
    )
    assert warning in str(wb.status()) and warning in str(wb.status(V1))
    assert "past its cut" not in str(wb.status("words.trips.v1"))  # another chain
    panel = wb.overview()  # the side panel says it too, as a warning, not a problem
    assert warning in panel.warnings and not any("past its cut" in p for p in panel.problems)
    wb.produce(V2, [v2_event(j) for j in range(N2)])

    wb.job(JOB, WINDOWED)
    assert warning in str(wb.status(JOB))  # the job reads the chain
    replay = wb.replay(JOB, start="earliest", until="latest")
    assert replay.wait(timeout=240), f"the bounded replay did not finish: {wb.status(JOB)}"
    assert replay.run.end_offsets.startswith(f"{V1}@{v2.cut};{V2}@0:{N2}")
    expected = oracle()
    assert output(wb, replay.run.table).equals(expected)
    # The malformed v1 record went to v1's dead-letter topic, as v1 declares (the default).
    assert f"{V1}.dlq" in replay.run.dead_letter_topics
    (row,) = [s for s in wb.status(JOB).rows if s.run.id == replay.run.id]
    assert (row.malformed, row.malformed_exact) == (1, True)

    # A live run from the start reads the same chain and catches up: wait() returns once
    # a read shows every window the data closes, and no other: the last one is open (its
    # v2 records go on). The older side read to the cut, then fell idle, and does not
    # carry the watermark past the newer side's.
    live = wb.run(JOB, new_table=True)
    assert live.wait(timeout=240), f"the live run did not catch up: {wb.status(JOB)}"
    newest = N1 + N2 - 1
    assert output(wb, live.run.table).equals(oracle(closed_by=newest))
    assert "RUNNING" in str(wb.status(JOB))
    more = 200  # up to 9:10: closes the window of 8:00 with its later records
    wb.produce(V2, [v2_event(j) for j in range(N2, N2 + more)])
    assert live.wait(timeout=240), f"the live run did not catch up again: {wb.status(JOB)}"
    assert output(wb, live.run.table).equals(oracle(N2 + more, closed_by=newest + more))
    wb.stop(JOB, 1)
