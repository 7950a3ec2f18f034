"""The subcommands that compare versions, switch the serving alias and keep its tables
(diff, promote, rollback, history, retire, sweep, compact), and read the outputs (sql,
read, the demo story); each declared once, above the function that runs it."""

from __future__ import annotations

import argparse
from typing import Any

from kappanb.commands.argument_types import (
    grace,
    non_negative_float,
    positive_int,
)
from kappanb.commands.context import Context
from kappanb.commands.declaration import CommandTable, arg, one_of
from kappanb.commands.results import OutputFrame
from kappanb.commands.shared_arguments import JOB, version_arg
from kappanb.exceptions import CommandLineError
from kappanb.serving.compacting import DEFAULT_RETENTION
from kappanb.workbench import Workbench

COMMANDS = CommandTable()
"""This module's subcommands, in the order `--help` lists them."""
subcommand = COMMANDS.subcommand


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
        arg("--drop", action="store_true", help="drop its table too (not the rollback target's)"),
        arg("--remove-after", type=grace, metavar="GRACE", default=None,
            help="remove its table once this has passed (7d, 36h): `sweep` does"),
    ),
)  # fmt: skip
def cmd_retire(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.retire(args.name, args.version, drop=args.drop, remove_after=args.remove_after)


@subcommand("sweep", "remove the retired tables whose grace period has passed")
def cmd_sweep(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.sweep()


@subcommand(
    "compact", "rewrite a version's table into few files, deletes applied; expire old snapshots",
    JOB, version_arg(nargs="?", help="v1, v2, ... (default: the one readers get)"),
    arg("--retain", type=grace, metavar="AGE", default=DEFAULT_RETENTION,
        help="keep snapshots younger than this for time travel (default: 1d)"),
)  # fmt: skip
def cmd_compact(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.compact(args.name, args.version, retain=args.retain)


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
