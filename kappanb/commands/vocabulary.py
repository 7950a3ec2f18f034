"""The words of `%kappa`, for completion: subcommands and flags from the real argument
parser, which subcommands take a job, a version or a topic, and the names one registry
knows right now (topics, the SQL tables a job reads, jobs, versions, output tables).

The `%kappa` completer (kappanb.magics.completion) and the Jupyter server's `names`
endpoint (kappanb.server) both read it, so they offer the same words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from kappanb.commands.parser import SUBCOMMANDS, build_parser
from kappanb.registry.store import Registry

TAKES_JOB = frozenset({
    "job", "show", "run", "replay", "stop", "resume", "read", "status", "watch", "diff",
    "promote", "rollback", "history", "retire",
})  # fmt: skip
"""Subcommands whose first argument is a job name."""
TAKES_VERSION = TAKES_JOB - {"job", "status", "rollback", "history"}
"""Subcommands whose second argument is a version (v1, v2, ...) of that job."""
TAKES_TOPIC = frozenset({"produce", "topic"})
"""Subcommands whose first argument is a topic."""


@cache
def all_flags() -> dict[str, tuple[str, ...]]:
    """Per subcommand, its long options (``--until``, ...), as the parser defines them."""
    parser = build_parser("%kappa")
    found: dict[str, tuple[str, ...]] = {}
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        for command, sub in getattr(action, "choices", {}).items():
            options = {o for a in sub._actions for o in a.option_strings if o.startswith("--")}
            found[command] = tuple(sorted(options))
    return found


def flags_of(command: str) -> list[str]:
    """The long options of one subcommand (none for a word that is not one)."""
    return list(all_flags().get(command, ()))


@dataclass(frozen=True)
class Vocabulary:
    """Everything completion can offer now: the command words and the registry's names."""

    subcommands: list[str]
    flags: dict[str, list[str]]
    topics: list[str]
    """Kafka topic names (``payments.captured.v1``)."""
    sql_tables: list[str]
    """The names a job's SQL reads the topics by (``payments_captured_v1``, or --table)."""
    topic_of_table: dict[str, str]
    """Each of those SQL names with the topic it reads (``{"order_events": "orders"}``)."""
    jobs: list[str]
    versions: dict[str, list[int]]
    tables: list[str]
    """What `sql` and `read` know: jobs with a serving version, and runs' output tables."""
    takes: dict[str, list[str]]
    """Which subcommands take a ``job``, a ``version`` (after the job) or a ``topic``."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def vocabulary(registry: Registry) -> Vocabulary:
    """The words of the parser and the names ``registry`` holds (no stack needed)."""
    topics = registry.topics()
    versions: dict[str, list[int]] = {}
    for v in registry.versions():
        versions.setdefault(v.job, []).append(v.version)
    serving = [job for job in versions if registry.serving(job) is not None]
    outputs = {r.table for r in registry.runs()}
    return Vocabulary(
        subcommands=list(SUBCOMMANDS),
        flags={command: list(options) for command, options in all_flags().items()},
        topics=[t.name for t in topics],
        sql_tables=sorted({t.table for t in topics}),
        topic_of_table={t.table: t.name for t in sorted(topics, key=lambda t: t.table)},
        jobs=sorted(versions),
        versions=versions,
        tables=sorted(outputs | set(serving)),
        takes={
            "job": sorted(TAKES_JOB),
            "version": sorted(TAKES_VERSION),
            "topic": sorted(TAKES_TOPIC),
        },
    )
