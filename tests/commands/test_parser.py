from __future__ import annotations

import argparse
import shlex

import pytest

from kappanb.commands.parser import SUBCOMMANDS, KappaArgumentParser, build_parser
from kappanb.exceptions import CommandLineError
from kappanb.stack.layout import SERVICES


def _parse(line: str) -> argparse.Namespace:
    return build_parser("%kappa", raise_errors=True).parse_args(shlex.split(line))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("bogus", ["invalid choice: 'bogus'", "replay", "usage: %kappa"]),
        ("", ["required: COMMAND"]),
        ("run", ["%kappa run:", "required: name", "usage: %kappa run"]),
        ("stop x", ["%kappa stop:", "required: version"]),
        ("stop x vX", ["argument version", "'vX' is not a version", "write v1, v2"]),
        ("stop x v0", ["'v0' is not a version"]),
        ("produce t --rate 0", ["argument --rate", "must be above 0, not 0"]),
        ("produce t --rate fast", ["argument --rate", "'fast' is not a number"]),
        ("produce t --late 2", ["argument --late", "share between 0 and 1", "'2'"]),
        ("produce t --out-of-order -0.1", ["--out-of-order", "share between 0 and 1"]),
        ("produce t --count 1.5", ["--count", "'1.5' is not a whole number"]),
        ("up --slots 0", ["argument --slots", "must be at least 1, not 0"]),
        ("logs nothing", ["argument service", "invalid choice: 'nothing'"]),
        ("topic t", ["required: --schema"]),
        ("run j v1 --from 0:5", ["unrecognized arguments: --from 0:5"]),
        ("produce t --generator other", ["invalid choice: 'other'"]),
    ],
)
def test_bad_lines_raise_with_a_useful_message(line: str, expected: list[str]) -> None:
    with pytest.raises(CommandLineError) as info:
        _parse(line)
    message = str(info.value)
    for part in expected:
        assert part in message
    assert "usage:" in message


def test_replay_with_range() -> None:
    args = _parse("replay j v2 --from 0:5 --until latest --new-table --parallelism 2")
    assert vars(args) == {
        "profile": None,
        "command": "replay",
        "name": "j",
        "version": 2,
        "start": "0:5",
        "until": "latest",
        "restart": False,
        "new_table": True,
        "parallelism": 2,
        "quiet": False,
        "watch": False,
    }


def test_quiet_and_watch_exclude_each_other() -> None:
    assert _parse("run j --quiet").quiet and _parse("replay j --watch").watch
    with pytest.raises(CommandLineError, match="not allowed with argument"):
        _parse("replay j --quiet --watch")


def test_run_defaults_to_newest_version() -> None:
    args = _parse("run daily_merchants")
    assert (args.command, args.name, args.version) == ("run", "daily_merchants", None)
    assert not args.restart and not args.new_table
    assert not hasattr(args, "start")


@pytest.mark.parametrize("word", ["3", "v3", "V3"])
def test_versions_parse_to_numbers(word: str) -> None:
    assert _parse(f"stop j {word} --savepoint").version == 3
    assert _parse(f"show j {word}").version == 3


def test_produce_options() -> None:
    args = _parse("produce payments --generator payments --count 50 --rate 2.5 --late 0.1 --bug")
    assert args.topic == "payments" and args.source is None
    assert (args.generator, args.count, args.rate) == ("payments", 50, 2.5)
    assert (args.late, args.out_of_order, args.seed, args.bug) == (0.1, 0.0, 42, True)


@pytest.mark.parametrize("value", ["0", "1", "0.5", "1.0", ".25"])
def test_share_bounds_are_inclusive(value: str) -> None:
    assert _parse(f"produce t --late {value}").late == float(value)


def test_topic_options() -> None:
    args = _parse(
        "topic payments.captured.v1 --schema 'id STRING, ts TIMESTAMP(3)' "
        "--event-time ts --watermark '30 s' --partitions 3"
    )
    assert args.name == "payments.captured.v1"
    assert args.schema == "id STRING, ts TIMESTAMP(3)"
    assert (args.event_time, args.watermark, args.partitions) == ("ts", "30 s", 3)
    assert (args.compact, args.key, args.table) == (False, None, None)


def test_job_key_list() -> None:
    args = _parse("job j --key 'day, merchant_id,' --note 'fix dupes'")
    assert args.key == ["day", "merchant_id"]
    assert args.note == "fix dupes"
    assert not args.python


def test_simple_commands_and_defaults() -> None:
    assert _parse("up").slots is None
    assert _parse("up --slots 2").slots == 2
    assert _parse("read j").limit is None  # the whole output unless asked
    assert _parse("status --json").json is True
    args = _parse(f"logs {SERVICES[0]} -n 5")
    assert (args.service, args.lines) == (SERVICES[0], 5)


def test_every_subcommand_is_known() -> None:
    for name in SUBCOMMANDS:
        with pytest.raises(CommandLineError) as info:
            _parse(f"{name} --no-such-flag")
        message = str(info.value)
        assert "--no-such-flag" in message or "required" in message
        assert "usage: %kappa" in message


def test_without_raise_errors_argparse_exits() -> None:
    before = KappaArgumentParser.raise_errors  # a class-wide switch: restore it
    try:
        parser = build_parser("kappanb")
        with pytest.raises(SystemExit) as info:
            parser.parse_args(["bogus"])
        assert info.value.code == 2
    finally:
        KappaArgumentParser.raise_errors = before


def test_parallelism_is_a_positive_number_of_tasks() -> None:
    assert _parse("run j").parallelism == 1
    with pytest.raises(CommandLineError, match="--parallelism"):
        _parse("run j --parallelism 0")


def test_topic_malformed_policy_flags() -> None:
    args = _parse("topic orders.v1 --schema 'id STRING' --on-malformed fail")
    assert (args.on_malformed, args.dlq) == ("fail", None)
    args = _parse("topic orders.v1 --schema 'id STRING' --dlq orders.bad")
    assert (args.on_malformed, args.dlq) == (None, "orders.bad")
