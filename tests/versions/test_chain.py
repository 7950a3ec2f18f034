"""Versioned topics without I/O: the declaration's checks and the SQL of the chain."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kappanb.core.positions import ReadRange
from kappanb.core.schema import parse_columns
from kappanb.exceptions import TopicMappingError, UnknownTopicError
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import TopicSpec
from kappanb.versions import chain, chain_source
from kappanb.versions.definitions import topic_spec
from kappanb.versions.following import with_known_cut
from kappanb.versions.malformed import RunIdentity

KAFKA = KafkaConnection.plain("b:1")
V1 = TopicSpec(
    name="rides.trips.v1",
    table="rides_trips_v1",
    columns=parse_columns("trip_id STRING NOT NULL, fare DOUBLE, ts TIMESTAMP(3)"),
    event_time="ts",
    watermark_ms=2_000,
    partitions=2,
)
MAPPING = {"fare_cents": "CAST(fare * 100 AS BIGINT)", "event_time": "ts"}
V2 = topic_spec(
    "rides.trips.v2",
    "trip_id STRING NOT NULL, fare_cents BIGINT, event_time TIMESTAMP(3)",
    event_time="event_time",
    watermark="1 s",
    follows="rides.trips.v1",
    mapping=MAPPING,
)
SEALED = replace(V2, cut="0:120,1:98")


# ---- the declaration ----------------------------------------------------------------------
def test_a_mapping_is_given_as_a_dict_or_as_cli_entries_alike() -> None:
    as_cli = chain.parse_mapping(["fare_cents = CAST(fare * 100 AS BIGINT)", "event_time=ts"])
    assert as_cli == chain.parse_mapping(MAPPING) == MAPPING
    assert V2.mapping == tuple(MAPPING.items())


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        (["fare_cents"], "write COLUMN=EXPR"),
        (["=fare"], "write COLUMN=EXPR"),
        (["fare_cents=fare", "fare_cents=1"], "twice"),
        (["fare_cents="], "write fare_cents=NULL"),
    ],
)
def test_a_malformed_map_entry_says_how_to_write_one(entries: list[str], says: str) -> None:
    with pytest.raises(TopicMappingError, match=says):
        chain.parse_mapping(entries)


def test_a_map_without_follows_is_refused() -> None:
    with pytest.raises(TopicMappingError, match="--follows"):
        topic_spec("rides.trips.v2", "fare BIGINT", mapping={"fare": "1"})


def test_the_columns_an_expression_reads_are_found_past_sql_words_and_functions() -> None:
    expression = "CASE WHEN `fare` > 0 THEN CAST(fare * 100 AS BIGINT) ELSE NULL END + 1e3"
    assert chain.referenced_columns(expression) == ["fare", "fare"]
    assert chain.referenced_columns("COALESCE(tip, 0) || 'fare'") == ["tip"]
    assert chain.referenced_columns("TIMESTAMPADD(HOUR, 1, ts)") == ["ts"]
    assert chain.referenced_columns("COALESCE(ts, CURRENT_TIMESTAMP)") == ["ts"]
    assert chain.referenced_columns("EXTRACT(DOW FROM ts) = 1 AND x IS NOT NULL") == ["ts", "x"]
    json = "JSON_VALUE(payload, '$.fare' RETURNING DOUBLE DEFAULT 0 ON EMPTY NULL ON ERROR)"
    assert chain.referenced_columns(json) == ["payload"]


@pytest.mark.parametrize(
    "expression",
    ["fare)", "(fare", "fare; DROP TABLE x", "'fare", "fare --", "fare /* x */", "fare)--("],
)
def test_an_expression_that_could_end_its_statement_is_refused(expression: str) -> None:
    with pytest.raises(TopicMappingError, match="one SQL expression"):
        chain.referenced_columns(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "(SELECT MAX(fare) FROM rides_trips_v1)",
        "fare IN (VALUES (1), (2))",
        "EXISTS (select 1 from other)",
        "(SELECT f FROM LATERAL TABLE(split(trip_id)))",
    ],
)
def test_an_expression_reading_another_table_is_refused(expression: str) -> None:
    with pytest.raises(TopicMappingError, match="would read another table"):
        chain.referenced_columns(expression)


def test_a_comment_marker_inside_a_string_is_only_text() -> None:
    assert chain.referenced_columns("COALESCE(note, '-- none /* */')") == ["note"]


def test_every_newer_column_comes_mapped_or_same_named_cast_when_types_differ() -> None:
    v2 = topic_spec(
        "rides.trips.v2", "trip_id STRING, fare BIGINT, ts TIMESTAMP(3), note STRING",
        event_time="ts", follows="rides.trips.v1", mapping={"note": "NULL"},
    )  # fmt: skip
    given = {c.name: e for c, e in chain.column_sources(v2, V1)}
    assert given == {
        "trip_id": "`trip_id`",  # same type once NOT NULL is left aside
        "fare": "CAST(`fare` AS BIGINT)",  # DOUBLE in v1
        "ts": "`ts`",
        "note": "CAST(NULL AS STRING)",
    }


def test_a_newer_column_without_a_source_is_named_with_how_to_map_it() -> None:
    v2 = topic_spec(
        "rides.trips.v2", "trip_id STRING, fare_cents BIGINT, ts TIMESTAMP(3)",
        event_time="ts", follows="rides.trips.v1",
    )  # fmt: skip
    with pytest.raises(TopicMappingError) as caught:
        chain.check_follows(v2, [V1])
    message = str(caught.value)
    assert "'fare_cents'" in message and "--map" in message and "fare_cents=NULL" in message


def test_the_newer_event_time_must_come_out_of_the_mapping_too() -> None:
    v2 = replace(V2, mapping=(("fare_cents", "fare"),))
    with pytest.raises(TopicMappingError, match=r"'event_time' of rides.trips.v2 \(its event"):
        chain.check_follows(v2, [V1])


def test_an_expression_quoting_a_column_the_older_version_lacks_is_refused() -> None:
    wrong = (("fare_cents", "CAST(`fare_usd` * 100 AS BIGINT)"), ("event_time", "ts"))
    v2 = replace(V2, mapping=wrong)
    with pytest.raises(TopicMappingError, match=r"'fare_usd' is not a column of rides\.trips"):
        chain.check_follows(v2, [V1])


def test_a_bare_word_that_is_no_column_is_left_to_flink_and_named_if_it_refuses() -> None:
    """A bare word kappanb does not know may be SQL (``IS JSON SCALAR``, ``x'0A'``) or a
    typo: Flink's plan decides (tests/runs/test_versioned_topics.py); kappanb keeps it
    to name it when Flink refuses the mapping because of it."""
    mapping = (
        ("fare_cents", "CASE WHEN trip_id IS JSON SCALAR THEN 0 ELSE CAST(fare_usd AS BIGINT) END"),
        ("event_time", "ts"),
    )  # fmt: skip
    v2 = replace(V2, mapping=mapping)
    assert chain.check_follows(v2, [V1]) == V1
    assert chain.unknown_words(v2, V1) == {"fare_cents": ["SCALAR", "fare_usd"]}


def test_a_map_of_a_column_the_newer_version_lacks_is_refused() -> None:
    v2 = replace(V2, mapping=(*V2.mapping, ("tip", "0")))
    with pytest.raises(TopicMappingError, match=r"rides\.trips\.v2 has no column 'tip'"):
        chain.check_follows(v2, [V1])


def test_what_a_topic_may_follow() -> None:
    assert chain.check_follows(V2, [V1]) == V1
    with pytest.raises(TopicMappingError, match="cannot follow itself"):
        chain.check_follows(replace(V2, follows=V2.name), [V1, V2])
    with pytest.raises(UnknownTopicError, match="declare the older version first"):
        chain.check_follows(V2, [])
    compacted = replace(V1, compact=True, key="trip_id")
    with pytest.raises(TopicMappingError, match="compacted"):
        chain.check_follows(V2, [compacted])
    other = replace(SEALED, name="rides.trips.v2b", table="rides_trips_v2b")
    with pytest.raises(TopicMappingError, match=r"rides\.trips\.v2b follows it already"):
        chain.check_follows(V2, [V1, other])
    assert chain.check_follows(V2, [V1, SEALED]) == V1  # its own redeclaration


def test_a_chain_of_three_versions_is_refused_either_way() -> None:
    v3 = topic_spec("rides.trips.v3", "trip_id STRING", follows="rides.trips.v2")
    with pytest.raises(TopicMappingError, match="only two versions chain"):
        chain.check_follows(v3, [V1, SEALED])
    v0 = replace(V1, name="rides.trips.v0", table="rides_trips_v0")
    v1_following = replace(V1, follows="rides.trips.v0")
    with pytest.raises(TopicMappingError, match="only two versions chain"):
        chain.check_follows(v1_following, [v0, V1, SEALED])


def test_the_sealed_message_says_where_to_produce() -> None:
    message = chain.sealed_message("rides.trips.v1", replace(SEALED, created_at="2026-01-02"))
    assert message.startswith("rides.trips.v1 is sealed: rides.trips.v2 follows it since 2026")
    assert "produce to rides.trips.v2" in message and "0:120,1:98" in message


# ---- the SQL of the chain -----------------------------------------------------------------
def test_the_older_side_carries_the_newer_event_time_as_its_watermark() -> None:
    text = chain_source.older_ddl(V1, SEALED, KAFKA, "g", ReadRange(until="latest"))
    assert text.startswith("CREATE TEMPORARY TABLE `_kappanb_older_rides_trips_v2` (")
    assert "'topic' = 'rides.trips.v1'" in text  # no clock: its records precede the newer
    assert "'scan.startup.mode' = 'earliest-offset'" in text
    # A bounded run ends it at the cut: the run ends when every source has.
    assert "'scan.bounded.mode' = 'specific-offsets'" in text
    cut = "'scan.bounded.specific-offsets' = 'partition:0,offset:120;partition:1,offset:98'"
    assert cut in text
    assert "`_kappanb_next_event_time` AS CAST(ts AS TIMESTAMP(3))" in text
    assert (
        "WATERMARK FOR `_kappanb_next_event_time` AS `_kappanb_next_event_time` - "
        "INTERVAL '1' SECOND" in text
    )
    # v1 routes malformed events: its columns are nullable and its errors are kept
    assert "`_kappanb_error` STRING METADATA FROM 'value.error'" in text


def test_unbounded_the_older_side_never_finishes_and_keeps_what_precedes_the_cut() -> None:
    """A finished source's end-of-time watermark would fire the windows the newer side has
    not closed, as soon as its partitions fall idle: an unbounded run keeps it reading."""
    text = chain_source.older_ddl(V1, SEALED, KAFKA, "g", ReadRange())
    assert "scan.bounded" not in text
    assert chain_source.within_cut(SEALED) == (
        "((`_kappanb_partition` = 0 AND `_kappanb_offset` < 120) OR "
        "(`_kappanb_partition` = 1 AND `_kappanb_offset` < 98))"
    )
    assert chain_source.within_cut(replace(SEALED, cut="0:0,1:5")) == (
        "((`_kappanb_partition` = 1 AND `_kappanb_offset` < 5))"
    )
    failing = chain_source.older_ddl(replace(V1, on_malformed="fail"), SEALED, KAFKA, "g",
                                     ReadRange())  # fmt: skip
    assert "`_kappanb_offset` BIGINT METADATA FROM 'offset' VIRTUAL" in failing
    assert "`trip_id` STRING NOT NULL" in failing  # as declared: it fails fast


def test_the_older_side_starts_where_the_run_starts() -> None:
    text = chain_source.older_ddl(V1, SEALED, KAFKA, "g", ReadRange("2026-03-04T12:00", "latest"))
    assert "'scan.startup.mode' = 'timestamp'" in text
    assert "'scan.bounded.mode' = 'specific-offsets'" in text  # the cut, not --until
    assert "latest-offset" not in text


def test_the_mapped_view_keeps_the_rowtime_and_only_valid_records() -> None:
    text = chain_source.older_view_ddl(V1, SEALED)
    assert "`trip_id` AS `trip_id`" in text
    assert "CAST(CAST(fare * 100 AS BIGINT) AS BIGINT) AS `fare_cents`" in text
    assert "`_kappanb_next_event_time` AS `event_time`" in text
    assert text.endswith(f"WHERE {chain_source.within_cut(SEALED)} AND `_kappanb_error` IS NULL")
    failing = chain_source.older_view_ddl(replace(V1, on_malformed="fail"), SEALED)
    assert failing.endswith(f"WHERE {chain_source.within_cut(SEALED)}")


def test_the_table_a_job_reads_is_the_union_of_both_sides() -> None:
    statements = chain_source.source_statements(V1, SEALED, KAFKA, "g", ReadRange())
    assert len(statements) == 5  # older table, mapped view, newer log table, newer view, union
    union = statements[-1]
    assert union.startswith("CREATE TEMPORARY VIEW `rides_trips_v2` AS")
    assert "FROM `_kappanb_mapped_rides_trips_v2`\nUNION ALL\n" in union
    assert union.endswith("FROM `_kappanb_newer_rides_trips_v2`")
    newer = statements[2]
    assert "'topic' = 'rides.trips.v2;rides.trips.v2.kappanb-clock'" in newer  # its clock


def test_only_runs_from_before_the_newer_version_read_the_older() -> None:
    assert chain_source.reads_older(SEALED, ReadRange())
    assert chain_source.reads_older(SEALED, ReadRange("2026-03-04"))
    assert not chain_source.reads_older(SEALED, ReadRange("latest"))
    assert not chain_source.reads_older(replace(SEALED, cut="0:0,1:0"), ReadRange())
    assert not chain_source.reads_older(V1, ReadRange())


def test_the_older_side_routes_its_malformed_events_to_its_own_dead_letter_topic() -> None:
    run = RunIdentity("fares", 2, 7, "replay")
    sink, insert = chain_source.dead_letter_statements(V1, SEALED, KAFKA, run)
    assert "`_kappanb_older_dlq_rides_trips_v2`" in sink and "'rides.trips.v1.dlq'" in sink
    assert insert.startswith("INSERT INTO `_kappanb_older_dlq_rides_trips_v2`")
    assert insert.endswith(
        "FROM `_kappanb_older_rides_trips_v2` WHERE `_kappanb_error` IS NOT NULL AND "
        + chain_source.within_cut(SEALED)
    )  # an outside producer's malformed records past the cut are not the run's
    failing = replace(V1, on_malformed="fail")
    assert chain_source.dead_letter_statements(failing, SEALED, KAFKA, run) == []


def test_a_redeclared_follower_keeps_the_cut_it_was_sealed_at() -> None:
    assert with_known_cut(V2, [V1, SEALED]).cut == SEALED.cut
    assert with_known_cut(V2, [V1]).cut == ""  # a first declaration is sealed anew
    other = replace(SEALED, follows="rides.trips.v0")  # it followed another: sealed anew
    assert with_known_cut(V2, [V1, other]).cut == ""
