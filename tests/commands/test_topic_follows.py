"""`topic ... --follows OLDER --map COL=EXPR` through the command table: the options reach
the API, and a wrong declaration is refused before the stack is asked for anything."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pytest

from kappanb.commands.context import Context
from kappanb.commands.parser import build_parser
from kappanb.commands.stack_commands import cmd_topic
from kappanb.core.schema import parse_columns
from kappanb.exceptions import TopicMappingError, UnknownTopicError
from kappanb.registry.records import TopicSpec
from kappanb.settings import StackSettings
from kappanb.workbench import Workbench

LINE = (
    "topic rides.trips.v2 --schema 'fare_cents BIGINT, ts TIMESTAMP(3)' --event-time ts "
    "--follows rides.trips.v1 --map 'fare_cents=CAST(fare * 100 AS BIGINT)'"
)


def _parse(line: str) -> argparse.Namespace:
    return build_parser("%kappa", raise_errors=True).parse_args(shlex.split(line))


def test_follows_and_each_map_reach_the_arguments() -> None:
    args = _parse(LINE + " --map 'ts = ts'")
    assert args.follows == "rides.trips.v1"
    assert args.mapping == ["fare_cents=CAST(fare * 100 AS BIGINT)", "ts = ts"]
    assert _parse("topic t --schema 'a INT'").mapping is None
    assert _parse(LINE).mapping == ["fare_cents=CAST(fare * 100 AS BIGINT)"]  # fresh each call


def test_a_wrong_follower_is_refused_before_the_stack(tmp_path: Path) -> None:
    wb = Workbench(StackSettings(home=tmp_path / "home"))  # auto_up on: must not start
    with pytest.raises(UnknownTopicError, match="declare the older version first"):
        cmd_topic(wb, _parse(LINE), Context())
    columns = parse_columns("fare DOUBLE, ts TIMESTAMP(3)")
    wb.registry.put_topic(TopicSpec("rides.trips.v1", "rides_trips_v1", columns, "ts"))
    # A quoted name is surely a column: refused here. (A bare word may be SQL kappanb does
    # not list, so Flink's plan judges it: tests/runs/test_versioned_topics.py.)
    with pytest.raises(TopicMappingError, match="'fare_usd' is not a column"):
        cmd_topic(wb, _parse(LINE.replace("fare *", "`fare_usd` *")), Context())
    with pytest.raises(TopicMappingError, match="SELECT would read another table"):
        cmd_topic(wb, _parse(LINE.replace("fare *", "(SELECT 1) *")), Context())
    with pytest.raises(TopicMappingError, match="--map gives columns from an older version"):
        cmd_topic(wb, _parse("topic x.v1 --schema 'a INT' --map a=1"), Context())
    assert [t.name for t in wb.topics()] == ["rides.trips.v1"]
    assert not wb.stack_status().running
