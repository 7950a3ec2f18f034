"""What a run reads of a followed topic, decided before anything starts (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest

from kappanb.core.positions import ReadRange, read_range
from kappanb.core.schema import parse_columns
from kappanb.exceptions import StartPositionError, UnknownTopicError
from kappanb.history.forget import derived_tables
from kappanb.registry.records import JobVersion, RunRecord, TopicSpec
from kappanb.registry.store import LocalRegistry
from kappanb.runs.chain_reads import (
    check_chain_range,
    cut_offsets,
    older_reads,
    older_sides,
    read_topics,
)
from kappanb.tables.catalog import Catalog
from kappanb.tables.where import Where

V1 = TopicSpec("rides.trips.v1", "rides_trips_v1", parse_columns("fare DOUBLE"))
V2 = TopicSpec(
    "rides.trips.v2", "rides_trips_v2", parse_columns("fare_cents BIGINT"),
    follows="rides.trips.v1", mapping=(("fare_cents", "CAST(fare * 100 AS BIGINT)"),),
    cut="0:120,1:98",
)  # fmt: skip
VERSION = JobVersion("fares", 1, "sql", "SELECT * FROM rides_trips_v2", "d", "",
                     sources=("rides.trips.v2",))  # fmt: skip


def test_runs_from_before_the_newer_version_read_the_older_one_first() -> None:
    older = older_reads([V1, V2], [V2], ReadRange())
    assert older == {"rides.trips.v2": V1}
    assert read_topics(older, [V2]) == [V1, V2]
    assert cut_offsets(older, [V2]) == {"rides.trips.v1": {0: 120, 1: 98}}
    assert older_reads([V1, V2], [V2], ReadRange("latest")) == {}
    assert older_reads([V1, V2], [V1], ReadRange()) == {}  # the older alone, as before
    assert read_topics(older, [V1, V2]) == [V1, V2]  # both tables: each topic once


def test_an_older_version_no_longer_declared_is_named() -> None:
    with pytest.raises(UnknownTopicError, match=r"declare rides\.trips\.v1 again"):
        older_reads([V2], [V2], ReadRange())


@pytest.mark.parametrize(
    ("start", "until", "says"),
    [
        ("archive", None, "replay from the log"),
        ("0:5", None, "partition offsets name a position in one topic"),
        ("earliest", "2026-03-04T12:00", "use --until latest"),
    ],
)
def test_positions_in_one_topic_of_the_chain_are_refused(
    start: str, until: str | None, says: str
) -> None:
    with pytest.raises(StartPositionError, match=says):
        check_chain_range(VERSION, [V2], read_range(start, until))
    check_chain_range(VERSION, [V1], read_range(start, until))  # v1 alone: as before


def test_the_older_sides_of_runs_for_status_and_watch(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "registry.db")
    registry.put_topic(V1)
    registry.put_topic(V2)
    registry.add_version(VERSION)
    run = RunRecord(
        id=0, job="fares", version=1, mode="replay", table="fares__v1", group_id="g",
        start="earliest", until="latest", flink_job_id="", state="RUNNING", started_at="",
    )  # fmt: skip
    replayed = registry.add_run(run)
    live = registry.add_run(replace(run, mode="live", start="latest", until=None))
    sides = older_sides(registry, [replayed, live])
    assert list(sides) == [replayed.id]  # a run from latest reads v2 alone
    (side,) = sides[replayed.id]
    assert (side.topic, side.source, dict(side.ends)) == (
        "rides.trips.v1", "_kappanb_older_rides_trips_v2", {0: 120, 1: 98}
    )  # fmt: skip


def test_forget_names_the_versions_that_read_the_topic_through_its_follower(
    tmp_path: Path,
) -> None:
    registry = LocalRegistry(tmp_path / "registry.db")
    for topic in (V1, V2):
        registry.put_topic(topic)
    registry.add_version(VERSION)  # reads v2, never run: no table to look into
    (derived,) = derived_tables(registry, cast(Catalog, None), V1.name, cast(Where, None))
    assert (derived.job, derived.via) == ("fares", "rides.trips.v2")
    assert "--from archive" not in derived.replay  # refused for a chain: not offered
    assert derived_tables(registry, cast(Catalog, None), "other.v1", cast(Where, None)) == ()
