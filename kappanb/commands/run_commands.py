"""The subcommands of jobs, their versions and runs (run, replay, stop, resume, archive,
forget, watch); each declared once, above the function that runs it."""

from __future__ import annotations

import argparse

from kappanb.commands.argument_types import (
    grace,
    key_list,
    positive_float,
)
from kappanb.commands.context import Context, read_text_file
from kappanb.commands.declaration import CommandTable, arg
from kappanb.commands.shared_arguments import JOB, start_arguments, version_arg
from kappanb.exceptions import CommandLineError
from kappanb.history.forget_commands import DEFAULT_DEADLINE
from kappanb.workbench import Workbench

COMMANDS = CommandTable()
"""This module's subcommands, in the order `--help` lists them."""
subcommand = COMMANDS.subcommand


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


@subcommand("run", "start a version live: offset 0, unbounded, into NAME__vN", *start_arguments())
def cmd_run(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    handle = wb.run(
        args.name, args.version, restart=args.restart, new_table=args.new_table,
        parallelism=args.parallelism, watch=not args.quiet,
    )  # fmt: skip
    return handle if args.quiet else ctx.present_run(handle, args.watch)


@subcommand(
    "replay", "replay a version beside the live one, with a fresh consumer group",
    *start_arguments(
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


@subcommand(
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
)  # fmt: skip
def cmd_forget(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.forget(
        args.topic, where=args.where, deadline=args.deadline, expire_history=args.expire_history
    )


@subcommand(
    "watch", "throughput, records behind the head and catch-up of running versions",
    JOB,
    # None, not []: argparse then gives each call a fresh [] (and still calls it optional)
    version_arg("versions", nargs="*", default=None, help="v1 v2 ... (default: all running)"),
    arg("--interval", type=positive_float, default=1.0, help="seconds between samples"),
)  # fmt: skip
def cmd_watch(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return ctx.present_watch(wb.watch(args.name, args.versions, interval=args.interval))
