"""One function per subcommand, shared by the `%kappa` magics and the `kappanb` CLI.

Each takes the parsed arguments and a `Context` (the cell text, and how to find a
named object), calls the Workbench and returns what it returned.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kappanb.commands.results import FullStatus, OutputFrame, TextResult
from kappanb.exceptions import CommandLineError
from kappanb.stack.jars import JarCache
from kappanb.workbench import Workbench


def _no_lookup(name: str) -> Any:
    raise CommandLineError(
        f"no variable {name!r} here: give produce a notebook variable (a frame or a list of "
        "dicts), or --generator payments"
    )


def read_text_file(path: str) -> str:
    """A job's text from a file (`job NAME --file PATH`), in a notebook or a shell."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise CommandLineError(f"no file {path!r}")
    return file.read_text()


@dataclass
class Context:
    """What a command may need besides its arguments."""

    cell: str | None = None
    lookup: Callable[[str], Any] = _no_lookup
    """Find the SOURCE of `produce`: a notebook variable, or a JSON-lines file in a shell."""
    say: Callable[[str], None] = field(default=lambda _m: None)
    present_watch: Callable[[Any], object] = field(default=lambda watch: watch)
    """Turns a started WatchSet into what is shown: a widget panel, or terminal progress."""
    present_run: Callable[[Any, bool], object] = field(default=lambda handle, _follow: handle)
    """Turns a RunHandle (watching its job) into what is shown; the flag is `--watch`."""


def cmd_setup(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    result = JarCache(wb.settings).ensure(ctx.say)
    verb = "resolved and verified" if result.resolved else "already complete"
    return TextResult(f"jars {verb}: {result.jars.root}")


def cmd_up(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.up(task_slots=args.slots)


def cmd_down(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.down()


def cmd_status(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    stack = wb.stack_status()
    if args.json:
        return TextResult(json.dumps(stack.to_dict(), indent=2), 0 if stack.healthy else 3)
    return FullStatus(stack, wb.status(args.name) if stack.healthy else None)


def cmd_logs(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return TextResult(wb.stack.logs(args.service, lines=args.lines))


def cmd_topic(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.topic(
        args.name, args.schema, event_time=args.event_time, watermark=args.watermark,
        partitions=args.partitions, compact=args.compact, key=args.key, table=args.table,
        on_malformed=args.on_malformed, dlq=args.dlq,
    )  # fmt: skip


def cmd_topics(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return TextResult.listing(
        "topics", ["topic", "SQL table", "partitions", "event time", "watermark", "malformed"],
        [[t.name, t.table, t.partitions, t.event_time or "-", f"{t.watermark_ms / 1000:g} s",
          f"-> {t.dlq_topic}" if t.dlq_topic else "fail"] for t in wb.topics()],
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


def cmd_jobs(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.jobs()


def cmd_show(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.show(args.name, args.version)


def cmd_run(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    handle = wb.run(
        args.name, args.version, restart=args.restart, new_table=args.new_table,
        parallelism=args.parallelism, watch=not args.quiet,
    )  # fmt: skip
    return handle if args.quiet else ctx.present_run(handle, args.watch)


def cmd_replay(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    handle = wb.replay(
        args.name, args.version, start=args.start, until=args.until, restart=args.restart,
        new_table=args.new_table, parallelism=args.parallelism, watch=not args.quiet,
    )  # fmt: skip
    return handle if args.quiet else ctx.present_run(handle, args.watch)


def cmd_stop(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.stop(args.name, args.version, savepoint=args.savepoint)


def cmd_resume(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.resume(args.name, args.version)


def cmd_watch(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return ctx.present_watch(wb.watch(args.name, args.versions, interval=args.interval))


def cmd_diff(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.diff(
        args.name, args.old, args.new, key=args.key, where=args.where, tolerance=args.tolerance
    )


def cmd_promote(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.promote(args.name, args.version, force=args.force, reason=args.reason)


def cmd_rollback(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.rollback(args.name, reason=args.reason)


def cmd_history(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.history(args.name)


def cmd_retire(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return TextResult(wb.retire(args.name, args.version, drop=args.drop))


def cmd_sql(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    inline = " ".join(args.query)
    if ctx.cell and ctx.cell.strip() and inline:
        raise CommandLineError("give the query in the cell or on the line, not both")
    result = wb.sql(ctx.cell if ctx.cell and ctx.cell.strip() else inline)
    return result.head(args.limit) if args.limit else result


def cmd_demo(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    from kappanb.demo import run_demo

    def follow(watch: Any) -> None:
        ctx.present_watch(watch)  # terminal progress in a shell
        watch.wait(600)  # the story goes on once the runs have caught up

    return run_demo(wb, events=args.events, keep=args.keep, follow=follow)


def cmd_read(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    frame = wb.read(args.name, args.version)
    return OutputFrame.of((frame if args.limit is None else frame.head(args.limit)).collect())


HANDLERS: dict[str, Callable[[Workbench, argparse.Namespace, Context], object]] = {
    name.removeprefix("cmd_"): func
    for name, func in list(globals().items())
    if name.startswith("cmd_") and callable(func)
}


def read_json_lines(path: str) -> list[dict[str, Any]]:
    """Events from a JSON-lines file, or stdin for '-' (the CLI's SOURCE).

    The whole input is parsed before anything is sent, so a bad line sends nothing.
    """
    if path == "-":
        return list(_json_lines(path, sys.stdin))
    file = Path(path)
    if not file.is_file():
        raise CommandLineError(f"no file {path!r}: give a JSON-lines file or '-' for stdin")
    with file.open() as stream:
        return list(_json_lines(path, stream))


def _json_lines(path: str, stream: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(stream, 1):
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise CommandLineError(f"{path} line {number} is not JSON: {exc}") from None
