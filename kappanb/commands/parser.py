"""One argument parser for `%kappa ...` and `kappanb ...`: the same words, the same checks."""

from __future__ import annotations

import argparse
from typing import NoReturn

from kappanb.core.names import parse_version
from kappanb.exceptions import CommandLineError
from kappanb.stack.layout import SERVICES

SUBCOMMANDS = (
    "setup", "up", "down", "status", "logs", "topic", "topics", "produce", "job", "jobs",
    "show", "run", "replay", "stop", "resume", "read", "watch", "diff", "promote", "rollback",
    "history", "retire", "sql", "demo",
)  # fmt: skip


class KappaArgumentParser(argparse.ArgumentParser):
    """Raises `CommandLineError` instead of exiting, when asked to (the magic asks)."""

    raise_errors = False

    def error(self, message: str) -> NoReturn:
        if self.raise_errors:
            raise CommandLineError(f"{self.prog}: {message}\n{self.format_usage().strip()}")
        super().error(message)


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _number(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from None


def non_negative_float(raw: str) -> float:
    value = _number(raw)
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {raw}")
    return value


def positive_float(raw: str) -> float:
    value = _number(raw)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {raw}")
    return value


def share(raw: str) -> float:
    value = float(raw) if raw.replace(".", "", 1).isdigit() else -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, not {raw!r}")
    return value


def version(raw: str) -> int:
    try:
        return parse_version(raw)
    except Exception as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def key_list(raw: str) -> list[str]:
    return [k.strip() for k in raw.split(",") if k.strip()]


def iso_time(raw: str) -> str:
    from datetime import datetime

    try:
        datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not a time: write e.g. 2026-03-01 or 2026-03-01T09:30"
        ) from None
    return raw


def build_parser(prog: str, raise_errors: bool = False) -> KappaArgumentParser:
    # A class of its own, so subparsers (built from the parser's class) share the setting.
    parser_class: type[KappaArgumentParser] = type(
        "Parser", (KappaArgumentParser,), {"raise_errors": raise_errors}
    )
    parser = parser_class(
        prog=prog, description="Kappa workbench: Kafka log, Flink jobs, Iceberg views."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
        return p

    add("setup", "fetch and verify the stack's jars (no-op when cached)")
    add("up", "start Kafka, Flink and the Iceberg catalog on 127.0.0.1").add_argument(
        "--slots", type=positive_int, default=None,
        help="task slots of the TaskManager (default 4, or KAPPANB_TASK_SLOTS)",
    )  # fmt: skip
    add("down", "stop the processes `up` started")
    p = add("status", "health of the stack, then every run of every job (or of NAME)")
    p.add_argument("name", nargs="?", help="only this job's runs")
    p.add_argument("--json", action="store_true", help="print the stack's health as JSON")
    p = add("logs", "the tail of a service's log")
    p.add_argument("service", choices=SERVICES, help="which service")
    p.add_argument("-n", "--lines", type=positive_int, default=50, help="how many lines")

    p = add("topic", "declare a topic (schema, event time, watermark); create it if missing")
    p.add_argument("name", help="Kafka topic, e.g. payments.captured.v1")
    schema_help = "Flink columns, e.g. 'id STRING, ts TIMESTAMP(3)', or 'payments'"
    p.add_argument("--schema", required=True, help=schema_help)
    p.add_argument("--event-time", help="the TIMESTAMP(3) column that carries event time")
    p.add_argument("--watermark", default="0 s", help="how late events may be, e.g. '30 s'")
    p.add_argument("--partitions", type=positive_int, default=1)
    p.add_argument("--compact", action="store_true", help="keep the latest value per --key")
    p.add_argument("--key", help="the column that is the message key")
    p.add_argument("--table", help="the SQL table name (default: topic with '_' for '.')")
    p.add_argument(
        "--on-malformed", metavar="POLICY",
        help="an event that is not JSON, lacks a declared field or has a wrong type: 'dlq' "
        "(default) sends it to a dead-letter topic and counts it; 'fail' fails the run "
        "(the only choice for --compact topics)",
    )  # fmt: skip
    p.add_argument("--dlq", metavar="TOPIC", help="the dead-letter topic (default: NAME.dlq)")
    add("topics", "the declared topics")

    p = add("produce", "send events to a declared topic")
    p.add_argument("topic")
    p.add_argument("source", nargs="?",
                   help="a variable (frame or list of dicts) in a notebook; a JSON-lines file "
                   "or '-' in a shell")  # fmt: skip
    p.add_argument("--generator", choices=["payments"], help="use a built-in generator")
    p.add_argument("--count", type=positive_int, default=1000, help="how many events to make")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--rate", type=positive_float, help="events per second (default: at once)")
    p.add_argument("--out-of-order", type=share, default=0.0, help="share of disordered events")
    p.add_argument("--late", type=share, default=0.0, help="share of events beyond watermarks")
    p.add_argument("--bug", action="store_true", help="the generator's bug switch (duplicates)")
    p.add_argument("--start", type=iso_time, help="event time of the first generated event")

    p = add("job", "define a version of a job from SQL (the cell, --file, or stdin)")
    p.add_argument("name")
    p.add_argument("--note", default="", help="why this version exists")
    p.add_argument("--key", type=key_list, help="output key columns of an updating query")
    p.add_argument("--python", action="store_true", help="the text is a PyFlink Table API job")
    p.add_argument("--file", help="read the SQL (or Python) from this file")
    add("jobs", "jobs, their versions and runs")
    p = add("show", "one version of a job (default: the newest)")
    p.add_argument("name")
    p.add_argument("version", nargs="?", type=version)

    for name, text in (
        ("run", "start a version live: offset 0, unbounded, into NAME__vN"),
        ("replay", "replay a version beside the live one, with a fresh consumer group"),
    ):
        p = add(name, text)
        p.add_argument("name")
        p.add_argument("version", nargs="?", type=version, help="v1, v2, ... (default: newest)")
        if name == "replay":
            p.add_argument("--from", dest="start", help="earliest | TIMESTAMP | 0:120,1:98")
            p.add_argument("--until", help="latest | TIMESTAMP: a bounded replay")
        p.add_argument("--restart", action="store_true", help="replace a running/written run")
        p.add_argument("--new-table", action="store_true", help="write a new table instead")
        p.add_argument(
            "--parallelism", type=positive_int, default=1, help="parallel tasks (task slots)"
        )
        shown = p.add_mutually_exclusive_group()
        shown.add_argument(
            "--quiet", action="store_true", help="no watch panel (and no background sampling)"
        )
        shown.add_argument(
            "--watch",
            action="store_true",
            help="in a shell: follow progress until caught up or finished",
        )
    p = add("stop", "stop a running version")
    p.add_argument("name")
    p.add_argument("version", type=version)
    p.add_argument("--savepoint", action="store_true", help="take a savepoint to resume from")
    p = add("resume", "resume a stopped or failed version from its savepoint or checkpoint")
    p.add_argument("name")
    p.add_argument("version", type=version)
    p = add("watch", "throughput, records behind the head and catch-up of running versions")
    p.add_argument("name")
    p.add_argument(
        "versions", nargs="*", type=version, default=[], help="v1 v2 ... (default: all running)"
    )
    p.add_argument("--interval", type=positive_float, default=1.0, help="seconds between samples")
    p = add("diff", "compare two versions' outputs: rows only in one, changed, identical")
    p.add_argument("name")
    p.add_argument("old", type=version, help="vA, the version readers get now, say")
    p.add_argument("new", type=version, help="vB, the candidate")
    p.add_argument("--key", nargs="+", metavar="COL", help="key columns (default: the table's)")
    p.add_argument("--where", help="a SQL condition on both outputs: \"day >= DATE '2026-03-01'\"")
    p.add_argument("--tolerance", type=non_negative_float, default=0.0,
                   help="numbers closer than this are the same")  # fmt: skip
    p = add("promote", "switch the job's readers to a version, once it has caught up")
    p.add_argument("name")
    p.add_argument("version", type=version)
    p.add_argument("--force", action="store_true", help="even if it has not caught up")
    p.add_argument("--reason", default="", help="why, for the history")
    p = add("rollback", "switch the job's readers back to the version before")
    p.add_argument("name")
    p.add_argument("--reason", default="", help="why, for the history")
    p = add("history", "every switch of the job's serving version")
    p.add_argument("name")
    p = add("retire", "stop a version with a savepoint; keep its table as a rollback target")
    p.add_argument("name")
    p.add_argument("version", type=version)
    p.add_argument("--drop", action="store_true", help="drop its table too")
    p = add("sql", "SQL over the outputs: a job's name reads its serving version")
    p.add_argument("query", nargs="*", help="the query (or the cell of %%%%kappa sql)")
    p.add_argument("--limit", type=positive_int, default=None, help="rows to show")
    p = add("demo", "the metric-bug story end to end: v1 live, v2 replayed, diff, promote")
    p.add_argument("--events", type=positive_int, default=200_000, help="payments in the log")
    p.add_argument("--keep", action="store_true", help="leave the stack and tables up")
    p = add("read", "the output table of a version (default: the one readers get)")
    p.add_argument("name")
    p.add_argument("version", nargs="?", type=version)
    p.add_argument(
        "--limit", type=positive_int, default=None,
        help="return only the first N rows (default: all; a notebook shows the first 20)",
    )  # fmt: skip
    return parser
