"""Names that reach Kafka or generated SQL: validated here, quoted where they are used.

Job names become Iceberg table names (``NAME__vN``) and consumer group ids, topic
names become Kafka topics and Flink table names. Anything outside the patterns below
is refused before it can reach DDL, so no name can inject SQL.
"""

from __future__ import annotations

import re

from kappanb.exceptions import InvalidNameError

JOB_NAME = re.compile(r"[a-z][a-z0-9_]{0,47}")
TOPIC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
VERSION = re.compile(r"v([1-9][0-9]*)")


def check_job_name(name: str) -> str:
    if not JOB_NAME.fullmatch(name) or "__" in name:
        raise InvalidNameError(
            f"{name!r} is not a valid job name: use lower-case letters, digits and single "
            "underscores, starting with a letter, at most 48 characters (e.g. daily_merchants)"
        )
    return name


def check_topic_name(name: str) -> str:
    if not TOPIC_NAME.fullmatch(name) or ".." in name:
        raise InvalidNameError(
            f"{name!r} is not a valid topic name: use letters, digits, '.', '_' and '-' "
            "(e.g. payments.captured.v1)"
        )
    return name


def check_column_name(name: str, what: str = "column") -> str:
    if not COLUMN_NAME.fullmatch(name):
        raise InvalidNameError(
            f"{name!r} is not a valid {what} name: use letters, digits and underscores, "
            "starting with a letter or underscore"
        )
    return name


def parse_version(text: str) -> int:
    """``'v3'`` or ``'3'`` -> 3."""
    match = VERSION.fullmatch(text.strip().lower()) or VERSION.fullmatch(f"v{text.strip()}")
    if not match:
        raise InvalidNameError(f"{text!r} is not a version: write v1, v2, ...")
    return int(match.group(1))


def table_name_for_topic(topic: str) -> str:
    """A topic's SQL table: ``payments.captured.v1`` -> ``payments_captured_v1``."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", topic)
    return name if name[0].isalpha() or name[0] == "_" else f"t_{name}"


def output_table(job: str, version: int, suffix: int = 1) -> str:
    """``daily_merchants__v2``, or ``daily_merchants__v2_3`` for a version's third table."""
    return f"{job}__v{version}" if suffix == 1 else f"{job}__v{version}_{suffix}"


def quote(identifier: str) -> str:
    """Back-quote an identifier that already passed one of the checks above."""
    if "`" in identifier:
        raise InvalidNameError(f"{identifier!r} contains a back-quote")
    return f"`{identifier}`"
