"""The `kappanb` command: a twin of the `%kappa` magics. Parses, calls the API, prints."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from kappanb.commands.context import Context, read_json_lines
from kappanb.commands.handlers import HANDLERS
from kappanb.commands.parser import build_parser
from kappanb.exceptions import KappaError
from kappanb.settings import StackSettings
from kappanb.workbench import Workbench


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _context(args: argparse.Namespace) -> Context:
    """Files and stdin stand in for the notebook's cell and variables."""
    if args.command == "produce":
        return Context(lookup=read_json_lines, say=_say)
    cell = None
    if args.command == "job" and not args.file and not sys.stdin.isatty():
        cell = sys.stdin.read()
    if args.command == "sql" and not args.query and not sys.stdin.isatty():
        cell = sys.stdin.read()  # `kappanb sql < query.sql`
    return Context(cell=cell, say=_say, present_watch=_follow, present_run=_run_progress)


class Followed:
    """What following runs ends with: their status, and an exit code that says how it went
    (0 caught up or finished, 1 a run failed or ended otherwise, 130 interrupted)."""

    def __init__(self, watch: Any, interrupted: bool = False) -> None:
        self.watch, self.interrupted = watch, interrupted

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        settled = all(r.watch.finished or r.watch.caught_up for r in self.watch.runs)
        return 0 if settled else 1

    def __str__(self) -> str:
        return str(self.watch)


def _follow(watch: Any) -> Followed:
    """Terminal progress until every run is caught up, finished or ended: one line per
    run each few seconds (a line rewritten in place on a terminal), then the status."""
    tty = sys.stdout.isatty()
    interrupted = False
    try:
        while not watch.wait(timeout=2.0):
            line = watch.progress_line()
            print(f"\r\x1b[K{line}" if tty else line, end="" if tty else "\n", flush=True)
    except KeyboardInterrupt:
        interrupted = True
        print("\nstopped watching (the runs go on)", file=sys.stderr)
    finally:
        watch.stop()
        if tty:
            print()
    return Followed(watch, interrupted)


def _run_progress(handle: Any, follow: bool) -> Any:
    """`run`/`replay --watch` follow the job's runs; without it, just say what started."""
    if handle.watch is not None:
        if follow:
            print(handle, flush=True)
            return _follow(handle.watch)
        handle.watch.stop()
    return handle


def _show(result: Any) -> None:
    import polars as pl

    if isinstance(result, pl.DataFrame):
        with pl.Config(tbl_rows=-1, tbl_cols=-1):
            print(result)
    else:
        print(result)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser("kappanb").parse_args(argv)
    try:
        slots = getattr(args, "slots", None)
        if slots and args.profile is None:
            workbench = Workbench(StackSettings.from_env(task_slots=slots), say=_say)
        else:
            workbench = Workbench(profile=args.profile, say=_say)
        result = HANDLERS[args.command](workbench, args, _context(args))
        _show(result)
        return int(getattr(result, "exit_code", 0))
    except KappaError as exc:
        print(f"kappanb: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "kappanb: interrupted; nothing was left half-started "
            "(run `kappanb status` to see what is running)",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
