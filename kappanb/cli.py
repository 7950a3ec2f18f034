"""The `kappanb` command: a twin of the `%kappa` magics. Parses, calls the API, prints."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from kappanb.exceptions import KappaError
from kappanb.settings import StackSettings
from kappanb.stack.embedded import EmbeddedStack
from kappanb.stack.jars import JarCache
from kappanb.stack.layout import SERVICES


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_setup(args: argparse.Namespace, settings: StackSettings) -> int:
    cache = JarCache(settings)
    result = cache.ensure(_say)
    verb = "resolved and verified" if result.resolved else "already complete"
    print(f"jars {verb}: {result.jars.root}")
    return 0


def cmd_up(args: argparse.Namespace, settings: StackSettings) -> int:
    print(EmbeddedStack(settings).up(_say))
    return 0


def cmd_down(args: argparse.Namespace, settings: StackSettings) -> int:
    print(EmbeddedStack(settings).down(_say))
    return 0


def cmd_status(args: argparse.Namespace, settings: StackSettings) -> int:
    status = EmbeddedStack(settings).status()
    print(json.dumps(status.to_dict(), indent=2) if args.json else status)
    return 0 if status.healthy else 3


def cmd_logs(args: argparse.Namespace, settings: StackSettings) -> int:
    print(EmbeddedStack(settings).logs(args.service, lines=args.lines))
    return 0


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kappanb",
        description="Kappa architecture workbench: Kafka log, Flink jobs, Iceberg views.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands: dict[str, tuple[Callable[[argparse.Namespace, StackSettings], int], str]] = {
        "setup": (cmd_setup, "fetch and verify the stack's jars (no-op when cached)"),
        "up": (cmd_up, "start Kafka, Flink and the Iceberg catalog on 127.0.0.1"),
        "down": (cmd_down, "stop the processes `up` started"),
        "status": (cmd_status, "health of each service (exit 3 when not all healthy)"),
        "logs": (cmd_logs, "the tail of a service's log"),
    }
    for name, (func, help_text) in commands.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        if name == "status":
            p.add_argument("--json", action="store_true", help="print JSON")
        if name == "logs":
            p.add_argument("service", choices=SERVICES, help="which service")
            p.add_argument("-n", "--lines", type=_positive_int, default=50, help="how many lines")
        if name == "up":
            p.add_argument(
                "--slots",
                type=_positive_int,
                default=None,
                help="task slots of the TaskManager (default 4, or KAPPANB_TASK_SLOTS)",
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        slots = getattr(args, "slots", None)
        settings = StackSettings.from_env(**({"task_slots": slots} if slots else {}))
        code: int = args.func(args, settings)
        return code
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
