"""The handler of `forget` (a deletion request); declared in handlers.py beside the others,
so `--help`, the parser and completion see it in one table."""

from __future__ import annotations

import argparse

from kappanb.commands.context import Context
from kappanb.workbench import Workbench


def cmd_forget(wb: Workbench, args: argparse.Namespace, ctx: Context) -> object:
    return wb.forget(
        args.topic, where=args.where, deadline=args.deadline, expire_history=args.expire_history
    )
