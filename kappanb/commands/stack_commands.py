"""The subcommands of the stack (setup, up, down, status, profiles, logs, a local cluster)
and of topics and their events; each declared once, above the function that runs it."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from kappanb.cluster.local import LocalCluster
from kappanb.commands.argument_types import (
    iso_time,
    port_base,
    positive_float,
    positive_int,
    share,
)
from kappanb.commands.context import Context
from kappanb.commands.declaration import CommandTable, arg
from kappanb.commands.results import FullStatus, TextResult
from kappanb.core.durations import duration
from kappanb.exceptions import CommandLineError
from kappanb.profiles.load import profile_names
from kappanb.stack.jars import JarCache
from kappanb.stack.layout import SERVICES
from kappanb.workbench import Workbench

COMMANDS = CommandTable()
"""This module's subcommands, in the order `--help` lists them."""
subcommand = COMMANDS.subcommand


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
    if args.json:
        stack = wb.stack_status()
        return TextResult(json.dumps(stack.to_dict(), indent=2), 0 if stack.healthy else 3)
    return FullStatus(*wb.stack_and_runs(args.name))


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
    arg("--follows", metavar="OLDER",
        help="the older version this topic follows: runs read OLDER up to where it ends "
        "now (it is sealed), then this topic"),
    arg("--map", action="append", default=None, metavar="COL=EXPR", dest="mapping",
        help="a column of this topic as a Flink SQL expression over OLDER's columns, e.g. "
        "'fare_cents=CAST(fare * 100 AS BIGINT)' (repeatable; unmapped columns are "
        "OLDER's of the same name; COL=NULL for none)"),
)  # fmt: skip
def cmd_topic(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.topic(
        args.name, args.schema, event_time=args.event_time, watermark=args.watermark,
        partitions=args.partitions, compact=args.compact, key=args.key, table=args.table,
        on_malformed=args.on_malformed, dlq=args.dlq, retention=args.retention,
        follows=args.follows, mapping=args.mapping,
    )  # fmt: skip


@subcommand("topics", "the declared topics")
def cmd_topics(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return TextResult.listing(
        "topics", ["topic", "SQL table", "partitions", "event time", "watermark", "malformed",
                   "retention", "follows"],
        [[t.name, t.table, t.partitions, t.event_time or "-", f"{t.watermark_ms / 1000:g} s",
          f"-> {t.dlq_topic}" if t.dlq_topic else "fail",
          duration(t.retention_ms) if t.retention_ms else "-",
          f"{t.follows} up to {t.cut}" if t.follows else "-"] for t in wb.topics()],
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
