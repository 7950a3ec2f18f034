"""The words completion offers: the parser's subcommands and flags, the registry's names."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
from pathlib import Path

from kappanb.commands.parser import SUBCOMMANDS, build_parser
from kappanb.commands.vocabulary import TAKES_VERSION, flags_of, vocabulary
from kappanb.core.schema import Column
from kappanb.registry.records import JobVersion, RunRecord, TopicSpec
from kappanb.registry.store import LocalRegistry


def test_flags_are_the_ones_each_subcommands_help_lists() -> None:
    parser = build_parser("%kappa")
    for command in SUBCOMMANDS:
        shown = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", _help(parser, command)))
        assert flags_of(command) == sorted(shown), command
    assert {"--until", "--from", "--new-table"} <= set(flags_of("replay"))
    assert flags_of("nosuch") == []


def _help(parser: argparse.ArgumentParser, command: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        parser.parse_args([command, "--help"])
    return out.getvalue()


def test_an_empty_registry_still_has_the_command_words(tmp_path: Path) -> None:
    words = vocabulary(LocalRegistry(tmp_path / "r.sqlite"))
    assert words.subcommands == list(SUBCOMMANDS)
    assert (words.topics, words.jobs, words.versions, words.tables) == ([], [], {}, [])
    assert sorted(words.takes["version"]) == sorted(TAKES_VERSION)


def test_the_registrys_names(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "r.sqlite")
    cols = (Column("a", "STRING"),)
    registry.put_topic(TopicSpec("payments.captured.v1", "payments_captured_v1", cols))
    registry.put_topic(TopicSpec("orders", "order_events", cols))  # chosen with --table
    for job, digest in (("daily", "1"), ("daily", "2"), ("weekly", "3")):
        registry.add_version(JobVersion(job, 0, "sql", "SELECT 1", digest, "", output=cols))
    for version, table in ((1, "daily__v1"), (2, "daily__v2_2")):
        registry.add_run(RunRecord(0, "daily", version, "live", table, "g", "earliest", None,
                                   "j", "RUNNING", ""))  # fmt: skip
    registry.switch("daily", 1, "daily__v1", kind="first live run", expect_from=None)
    words = vocabulary(registry)
    assert words.topics == ["orders", "payments.captured.v1"]
    assert words.sql_tables == ["order_events", "payments_captured_v1"]
    assert words.topic_of_table == {  # a --table name is not derived from the topic's
        "order_events": "orders", "payments_captured_v1": "payments.captured.v1",
    }  # fmt: skip
    assert words.jobs == ["daily", "weekly"]
    assert words.versions == {"daily": [1, 2], "weekly": [1]}
    assert words.tables == ["daily", "daily__v1", "daily__v2_2"]  # weekly serves nothing
    assert words.to_dict()["flags"]["promote"] == ["--force", "--help", "--reason"]
