"""Every subcommand of the `%kappa` magics and the `kappanb` CLI, each declared once: its
word, help text and arguments (declaration.py) above the function that runs it.

A handler takes the parsed arguments and a `Context` (the cell text, and how to find a
named object), calls the Workbench and returns what it returned. Declared in the order
`--help` lists them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from kappanb.cluster.local import LocalCluster
from kappanb.commands.argument_types import (
    grace,
    iso_time,
    key_list,
    non_negative_float,
    port_base,
    positive_float,
    positive_int,
    share,
    version,
)
from kappanb.commands.context import Context, read_text_file
from kappanb.commands.declaration import Arg, CommandTable, Handler, OneOf, arg, one_of
from kappanb.commands.deletion import cmd_forget
from kappanb.commands.maintenance import cmd_compact
from kappanb.commands.results import FullStatus, OutputFrame, TextResult
from kappanb.core.durations import duration
from kappanb.exceptions import CommandLineError, ProfileNotReadyError
from kappanb.profiles.load import profile_names
from kappanb.runs.forget_commands import DEFAULT_DEADLINE
from kappanb.serving.compacting import DEFAULT_RETENTION
from kappanb.stack.jars import JarCache
from kappanb.stack.layout import SERVICES
from kappanb.workbench import Workbench

COMMANDS = CommandTable()
"""The declared subcommands, by name: the parser, the handlers and completion read these."""

subcommand = COMMANDS.subcommand
JOB = arg("name", completes="job")


def version_arg(name: str = "version", **options: Any) -> Arg:
    """A positional version of the job named before it: v1, v2, ... (or 1, 2, ...)."""
    return arg(name, type=version, completes="version", **options)


def _start_arguments(*read_range: Arg) -> tuple[Arg | OneOf, ...]:
    """What `run` and `replay` take; `replay` adds the range it reads."""
    return (
        JOB,
        version_arg(nargs="?", help="v1, v2, ... (default: newest)"),
        *read_range,
        arg("--restart", action="store_true", help="replace a running/written run"),
        arg("--new-table", action="store_true", help="write a new table instead"),
        arg("--parallelism", type=positive_int, default=1, help="parallel tasks (task slots)"),
        one_of(
            arg("--quiet", action="store_true",
                help="no watch panel (and no background sampling)"),
            arg("--watch", action="store_true",
                help="in a shell: follow progress until caught up or finished"),
        ),
    )  # fmt: skip


# ---- the stack ----------------------------------------------------------------------------
@subcommand("setup", "fetch and verify the stack's jars (no-op when cached)")
def cmd_setup(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    result = JarCache(wb.settings).ensure(ctx.say)
    verb = "resolved and verified" if result.resolved else "already complete"
    return TextResult(f"jars {verb}: {result.jars.root}")


@subcommand(
    "up", "start Kafka, Flink and the Iceberg catalog on 127.0.0.1",
    arg("--slots", type=positive_int, default=None,
        help="task slots of the TaskManager (default 4, or KAPPANB_TASK_SLOTS)"),
)  # fmt: skip
def cmd_up(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.up(task_slots=args.slots)


@subcommand("down", "stop the processes `up` started")
def cmd_down(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.down()


@subcommand(
    "status", "health of the stack, then every run of every job (or of NAME)",
    arg("name", nargs="?", help="only this job's runs, or this topic's archive", completes="job"),
    arg("--json", action="store_true", help="print the stack's health as JSON"),
)  # fmt: skip
def cmd_status(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    stack = wb.stack_status()
    if args.json:
        return TextResult(json.dumps(stack.to_dict(), indent=2), 0 if stack.healthy else 3)
    try:
        runs = wb.status(args.name) if stack.healthy else None
    except ProfileNotReadyError:
        runs = None  # an existing cluster: its services are checked, runs are not kappanb's yet
    return FullStatus(stack, runs)


@subcommand(
    "profile", "the stack profiles; with NAME, this notebook works on that profile's stack",
    arg("name", nargs="?", help="a profile of the profile file, or embedded"),
)  # fmt: skip
def cmd_profile(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    if args.name:
        if ctx.switch_profile is None:
            raise CommandLineError(
                "in a shell, choose the profile of each command with `kappanb --profile NAME "
                "...` or KAPPANB_PROFILE"
            )
        wb = ctx.switch_profile(args.name)
    names = profile_names()
    lines = [f"{'*' if n == wb.stack.profile else ' '} {n}" for n in names]
    if wb.stack.profile not in names:
        lines.append(f"* {wb.stack.profile}")
    return TextResult("\n".join(["profiles (* in use):", *lines, "", str(wb.stack_status())]))


@subcommand(
    "logs", "the tail of a service's log",
    arg("service", choices=SERVICES, help="which service"),
    arg("-n", "--lines", type=positive_int, default=50, help="how many lines"),
)  # fmt: skip
def cmd_logs(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return TextResult(wb.stack.logs(args.service, lines=args.lines))


@subcommand(
    "cluster", "a local cluster to try a profile on: 3 Kafka nodes (SASL), Flink with 2 "
    "TaskManagers, S3 + an Iceberg REST catalog (SeaweedFS), on 127.0.0.1",
    arg("action", choices=["up", "down", "status"],
        help="the action: up starts what is not running and writes the profile file; down "
        "stops it all; status"),
    arg("--home", metavar="DIR",
        help="the cluster's folder (default: $KAPPANB_CLUSTER_HOME, else cluster/ in the "
        "kappanb home)"),
    arg("--port-base", type=port_base, default=None, metavar="PORT",
        help="up: use PORT to PORT+49 exactly (default: 19000 and up, moved when taken)"),
)  # fmt: skip
def cmd_cluster(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    if args.port_base is not None and args.action != "up":
        raise CommandLineError(f"--port-base is for `cluster up`, not `cluster {args.action}`")
    cluster = LocalCluster(Path(args.home) if args.home else None, port_base=args.port_base)
    if args.action == "up":
        return cluster.up(ctx.say)
    if args.action == "down":
        return cluster.down(ctx.say)
    return cluster.status()


# ---- topics and events --------------------------------------------------------------------
@subcommand(
    "topic", "declare a topic (schema, event time, watermark); create it if missing",
    arg("name", help="Kafka topic, e.g. payments.captured.v1", completes="topic"),
    arg("--schema", required=True,
        help="Flink columns, e.g. 'id STRING, ts TIMESTAMP(3)', or 'payments'"),
    arg("--event-time", help="the TIMESTAMP(3) column that carries event time"),
    arg("--watermark", default="0 s", help="how late events may be, e.g. '30 s'"),
    arg("--partitions", type=positive_int, default=1),
    arg("--compact", action="store_true", help="keep the latest value per --key"),
    arg("--key", help="the column that is the message key"),
    arg("--table", help="the SQL table name (default: topic with '_' for '.')"),
    arg("--on-malformed", metavar="POLICY",
        help="an event that is not JSON, lacks a declared field or has a wrong type: 'dlq' "
        "(default) sends it to a dead-letter topic and counts it; 'fail' fails the run "
        "(the only choice for --compact topics)"),
    arg("--dlq", metavar="TOPIC", help="the dead-letter topic (default: NAME.dlq)"),
    arg("--retention", metavar="TIME",
        help="how long Kafka keeps records, e.g. '7 d' (default: forever); `retention "
        "NAME` reports what is left"),
)  # fmt: skip
def cmd_topic(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.topic(
        args.name, args.schema, event_time=args.event_time, watermark=args.watermark,
        partitions=args.partitions, compact=args.compact, key=args.key, table=args.table,
        on_malformed=args.on_malformed, dlq=args.dlq, retention=args.retention,
    )  # fmt: skip


@subcommand("topics", "the declared topics")
def cmd_topics(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return TextResult.listing(
        "topics", ["topic", "SQL table", "partitions", "event time", "watermark", "malformed",
                   "retention"],
        [[t.name, t.table, t.partitions, t.event_time or "-", f"{t.watermark_ms / 1000:g} s",
          f"-> {t.dlq_topic}" if t.dlq_topic else "fail",
          duration(t.retention_ms) if t.retention_ms else "-"] for t in wb.topics()],
    )  # fmt: skip


@subcommand(
    "retention", "how far back a topic's log reaches, and whether replays outrun its growth",
    arg("topic", completes="topic"),
    arg("--window", default="1 h", metavar="TIME",
        help="measure the topic's growth over this last stretch (default '1 h')"),
)  # fmt: skip
def cmd_retention(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.retention(args.topic, window=args.window)


@subcommand(
    "produce", "send events to a declared topic",
    arg("topic", completes="topic"),
    arg("source", nargs="?",
        help="a variable (frame or list of dicts) in a notebook; a JSON-lines file "
        "or '-' in a shell"),
    arg("--generator", choices=["payments"], help="use a built-in generator"),
    arg("--count", type=positive_int, default=1000, help="how many events to make"),
    arg("--seed", type=int, default=42),
    arg("--rate", type=positive_float, help="events per second (default: at once)"),
    arg("--out-of-order", type=share, default=0.0, help="share of disordered events"),
    arg("--late", type=share, default=0.0, help="share of events beyond watermarks"),
    arg("--bug", action="store_true", help="the generator's bug switch (duplicates)"),
    arg("--start", type=iso_time, help="event time of the first generated event"),
)  # fmt: skip
def cmd_produce(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    if (args.source is None) == (args.generator is None):
        raise CommandLineError(
            "produce needs either SOURCE (a frame or list of dicts) or --generator payments"
        )
    events: Any
    if args.generator:
        from kappanb.generators import PaymentsGenerator

        options: dict[str, Any] = {"seed": args.seed, "out_of_order": args.out_of_order,
                                   "late": args.late, "bug": args.bug}  # fmt: skip
        if args.start:
            options["start"] = datetime.fromisoformat(args.start)
        elif args.rate:
            options["live"] = True
        events = PaymentsGenerator(**options).events(args.count)
    else:
        events = ctx.lookup(args.source)
    return wb.produce(args.topic, events, rate=args.rate)


# ---- jobs, versions and runs --------------------------------------------------------------
@subcommand(
    "job", "define a version of a job from SQL (the cell, --file, or stdin)",
    JOB,
    arg("--note", default="", help="why this version exists"),
    arg("--key", type=key_list, help="output key columns of an updating query"),
    arg("--python", action="store_true", help="the text is a PyFlink Table API job"),
    arg("--file", help="read the SQL (or Python) from this file"),
    cell=True,
)  # fmt: skip
def cmd_job(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    text = ctx.cell
    if args.file:
        if text and text.strip():
            raise CommandLineError("give the job's text in the cell or with --file, not both")
        text = read_text_file(args.file)
    if not text or not text.strip():
        raise CommandLineError(
            "the job has no SQL: write a SELECT in the cell below `%%kappa job NAME` "
            "(or pass --file PATH)"
        )
    return wb.job(args.name, text, note=args.note, key=args.key, python=args.python)


@subcommand("jobs", "jobs, their versions and runs")
def cmd_jobs(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.jobs()


@subcommand("show", "one version of a job (default: the newest)", JOB, version_arg(nargs="?"))
def cmd_show(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.show(args.name, args.version)


@subcommand("run", "start a version live: offset 0, unbounded, into NAME__vN", *_start_arguments())
def cmd_run(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    handle = wb.run(
        args.name, args.version, restart=args.restart, new_table=args.new_table,
        parallelism=args.parallelism, watch=not args.quiet,
    )  # fmt: skip
    return handle if args.quiet else ctx.present_run(handle, args.watch)


@subcommand(
    "replay", "replay a version beside the live one, with a fresh consumer group",
    *_start_arguments(
        arg("--from", dest="start",
            help="earliest | earliest-available | archive | TIMESTAMP | 0:120,1:98"),
        arg("--until", help="latest | TIMESTAMP: a bounded replay"),
    ),
)  # fmt: skip
def cmd_replay(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    handle = wb.replay(
        args.name, args.version, start=args.start, until=args.until, restart=args.restart,
        new_table=args.new_table, parallelism=args.parallelism, watch=not args.quiet,
    )  # fmt: skip
    return handle if args.quiet else ctx.present_run(handle, args.watch)


@subcommand(
    "stop", "stop a running version",
    JOB, version_arg(),
    arg("--savepoint", action="store_true", help="take a savepoint to resume from"),
)  # fmt: skip
def cmd_stop(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.stop(args.name, args.version, savepoint=args.savepoint)


@subcommand(
    "resume", "resume a stopped or failed version from its savepoint or checkpoint",
    JOB, version_arg(),
)  # fmt: skip
def cmd_resume(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.resume(args.name, args.version)


@subcommand(
    "archive", "mirror a topic's records, from its first offset, into its Iceberg archive",
    arg("topic", completes="topic"),
    arg("--stop", action="store_true", help="stop the running archive (with a savepoint)"),
)  # fmt: skip
def cmd_archive(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.archive(args.topic, stop=args.stop)


subcommand(
    "forget", "a deletion request: delete matching events from the topic's archive, "
    "tombstone their keys (compacted topics); say what to replay and when the log drops them",
    arg("topic", completes="topic"),
    arg("--where", required=True, help="a SQL condition on the archive's columns: "
        "\"driver_id = 'd42'\""),
    arg("--deadline", type=grace, default=DEFAULT_DEADLINE, metavar="TIME",
        help="by when the events must be gone from the log too (default: 30d)"),
    arg("--expire-history", action="store_true",
        help="also expire the archive's snapshots before the delete and delete their files "
        "(no time travel to before it)"),
)(cmd_forget)  # fmt: skip


@subcommand(
    "watch", "throughput, records behind the head and catch-up of running versions",
    JOB,
    # None, not []: argparse then gives each call a fresh [] (and still calls it optional)
    version_arg("versions", nargs="*", default=None, help="v1 v2 ... (default: all running)"),
    arg("--interval", type=positive_float, default=1.0, help="seconds between samples"),
)  # fmt: skip
def cmd_watch(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return ctx.present_watch(wb.watch(args.name, args.versions, interval=args.interval))


# ---- comparing and the serving alias ------------------------------------------------------
@subcommand(
    "diff", "compare two versions' outputs: rows only in one, changed, identical",
    JOB,
    version_arg("old", help="vA, the version readers get now, say"),
    version_arg("new", help="vB, the candidate"),
    arg("--key", nargs="+", metavar="COL", help="key columns (default: the table's)"),
    arg("--where", help="a SQL condition on both outputs: \"day >= DATE '2026-03-01'\""),
    arg("--tolerance", type=non_negative_float, default=0.0,
        help="numbers closer than this are the same"),
)  # fmt: skip
def cmd_diff(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.diff(
        args.name, args.old, args.new, key=args.key, where=args.where, tolerance=args.tolerance
    )


@subcommand(
    "promote", "switch the job's readers to a version, once it has caught up",
    JOB, version_arg(),
    arg("--force", action="store_true", help="even if it has not caught up"),
    arg("--reason", default="", help="why, for the history"),
)  # fmt: skip
def cmd_promote(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.promote(args.name, args.version, force=args.force, reason=args.reason)


@subcommand(
    "rollback", "switch the job's readers back to the version before",
    JOB, arg("--reason", default="", help="why, for the history"),
)  # fmt: skip
def cmd_rollback(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.rollback(args.name, reason=args.reason)


@subcommand("history", "every switch of the job's serving version; removals of its tables", JOB)
def cmd_history(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.history(args.name)


@subcommand(
    "retire", "stop a version with a savepoint; keep its table as a rollback target",
    JOB, version_arg(),
    one_of(
        arg("--drop", action="store_true", help="drop its table too"),
        arg("--remove-after", type=grace, metavar="GRACE", default=None,
            help="remove its table once this has passed (7d, 36h): `sweep` does"),
    ),
)  # fmt: skip
def cmd_retire(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.retire(args.name, args.version, drop=args.drop, remove_after=args.remove_after)


@subcommand("sweep", "remove the retired tables whose grace period has passed")
def cmd_sweep(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.sweep()


subcommand(
    "compact", "rewrite a version's table into few files, deletes applied; expire old snapshots",
    JOB, version_arg(nargs="?", help="v1, v2, ... (default: the one readers get)"),
    arg("--retain", type=grace, metavar="AGE", default=DEFAULT_RETENTION,
        help="keep snapshots younger than this for time travel (default: 1d)"),
)(cmd_compact)  # fmt: skip


# ---- the outputs, and the story -----------------------------------------------------------
@subcommand(
    "sql", "SQL over the outputs: a job's name reads its serving version",
    arg("query", nargs="*", help="the query (or the cell of %%%%kappa sql)"),
    arg("--limit", type=positive_int, default=None, help="rows to show"),
    cell=True,
)  # fmt: skip
def cmd_sql(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    inline = " ".join(args.query)
    if ctx.cell and ctx.cell.strip() and inline:
        raise CommandLineError("give the query in the cell or on the line, not both")
    result = wb.sql(ctx.cell if ctx.cell and ctx.cell.strip() else inline)
    return result.head(args.limit) if args.limit else result


@subcommand(
    "demo", "the metric-bug story end to end: v1 live, v2 replayed, diff, promote",
    arg("--events", type=positive_int, default=200_000, help="payments in the log"),
    arg("--keep", action="store_true", help="leave the stack and tables up"),
)  # fmt: skip
def cmd_demo(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    from kappanb.demo import run_demo

    def follow(watch: Any) -> None:
        ctx.present_watch(watch)  # terminal progress in a shell
        watch.wait(600)  # the story goes on once the runs have caught up

    return run_demo(wb, events=args.events, keep=args.keep, follow=follow)


@subcommand(
    "read", "the output table of a version (default: the one readers get)",
    JOB, version_arg(nargs="?"),
    arg("--limit", type=positive_int, default=None,
        help="return only the first N rows (default: all; a notebook shows the first 20)"),
)  # fmt: skip
def cmd_read(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    frame = wb.read(args.name, args.version)
    return OutputFrame.of((frame if args.limit is None else frame.head(args.limit)).collect())


HANDLERS: Mapping[str, Handler] = {name: c.handler for name, c in COMMANDS.items()}
"""The handler of each subcommand, by name (what `args.command` says)."""
