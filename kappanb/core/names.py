"""Names that reach Kafka or generated SQL: validated here, quoted where they are used.

Job names become Iceberg table names (``NAME__vN``) and consumer group ids, topic
names become Kafka topics and Flink table names. Anything outside the patterns below
is refused before it can reach DDL, so no name can inject SQL; identifiers are also
back-quoted (`quote`) and string literals quoted with their quotes doubled (`literal`)
where the DDL is generated. Job names and SQL table names must not be reserved words
of Flink SQL: users write them bare in their queries, where a keyword would not parse.
"""

from __future__ import annotations

import re

from kappanb.exceptions import InvalidNameError

JOB_NAME = re.compile(r"[a-z][a-z0-9_]{0,47}")
TOPIC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
VERSION = re.compile(r"v([1-9][0-9]*)")

_RESERVED_WORDS = """all alter and any array as asc at between both by call case cast check column
    constraint create cross cube current date day default delete desc describe distinct
    drop else end escape except exists explain false fetch filter first for foreign from
    full function group grouping having hour in inner insert intersect interval into is
    join lateral left like limit match_recognize merge minus minute month natural not null
    of offset on or order outer over partition primary range right rollup row rows second
    select set show some system table then time timestamp to true union unique update use
    user using value values view when where window with within year"""
RESERVED = frozenset(_RESERVED_WORDS.split())
"""Reserved words of Flink SQL that a bare table name cannot be (a subset: the ones
people try; the planner's own message covers the rest)."""


def check_job_name(name: str) -> str:
    if not JOB_NAME.fullmatch(name) or "__" in name:
        raise InvalidNameError(
            f"{name!r} is not a valid job name: use lower-case letters, digits and single "
            "underscores, starting with a letter, at most 48 characters (e.g. daily_merchants)"
        )
    if name in RESERVED:
        raise InvalidNameError(
            f"{name!r} is a reserved word of SQL, so queries could not name the job: choose "
            f"another job name (e.g. {name}_counts)"
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


def check_table_name(name: str, topic: str | None = None) -> str:
    """A topic's SQL table name: an identifier, not a reserved word. ``topic`` when the
    name was made from the topic's (the advice is then to choose one with --table)."""
    what = f"topic {topic!r} would be read as SQL table {name!r}, which" if topic else repr(name)
    if not COLUMN_NAME.fullmatch(name):
        raise InvalidNameError(
            f"{what} is not a valid table name: use letters, digits and underscores, "
            "starting with a letter or underscore, at most 128 characters"
            + ("; give one with --table NAME" if topic else "")
        )
    if name.lower() in RESERVED:
        raise InvalidNameError(
            f"{what} is a reserved word of SQL that queries could not use as a table: "
            f"choose another with --table (e.g. --table {name}_events)"
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
    if not identifier or not identifier.isprintable():
        raise InvalidNameError(f"{identifier!r} is empty or has control characters")
    return f"`{identifier}`"


def literal(text: str) -> str:
    """A SQL string literal: ``it's`` -> ``'it''s'`` (a quote inside is doubled)."""
    if "\x00" in text:
        raise InvalidNameError(f"{text!r} contains a NUL character")
    return "'" + text.replace("'", "''") + "'"
