"""The handlers of the table-maintenance subcommands (`compact`); declared in handlers.py
beside the others, so `--help`, the parser and completion see them in one table."""

from __future__ import annotations

import argparse

from kappanb.commands.context import Context
from kappanb.workbench import Workbench


def cmd_compact(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.compact(args.name, args.version, retain=args.retain)
