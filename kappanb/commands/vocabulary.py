"""The words of `%kappa`, for completion: the subcommands, their flags and which take a
job, a version or a topic, all read from the subcommands' declarations, and the names one
registry knows right now (topics, the SQL tables a job reads, jobs, versions, output
tables).

The `%kappa` completer (kappanb.magics.completion) and the Jupyter server's `names`
endpoint (kappanb.server) both read it, so they offer the same words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from kappanb.commands.handlers import COMMANDS
from kappanb.registry.base import Registry

TAKES_JOB = COMMANDS.taking("job", position=0)
"""Subcommands whose first argument is a job name."""
TAKES_VERSION = COMMANDS.taking("version", position=1)
"""Subcommands whose second argument is a version (v1, v2, ...) of that job."""
TAKES_TOPIC = COMMANDS.taking("topic", position=0)
"""Subcommands whose first argument is a topic."""


def all_flags() -> dict[str, list[str]]:
    """Per subcommand, its long options (``--until``, ...), as it declares them."""
    return {name: command.long_options() for name, command in COMMANDS.items()}


def flags_of(command: str) -> list[str]:
    """The long options of one subcommand (none for a word that is not one)."""
    return COMMANDS[command].long_options() if command in COMMANDS else []


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
    """The words of the subcommands and the names ``registry`` holds (no stack needed)."""
    topics = registry.topics()
    versions: dict[str, list[int]] = {}
    for v in registry.versions():
        versions.setdefault(v.job, []).append(v.version)
    serving = [job for job in versions if registry.serving(job) is not None]
    outputs = {r.table for r in registry.runs()}
    return Vocabulary(
        subcommands=list(COMMANDS),
        flags=all_flags(),
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
