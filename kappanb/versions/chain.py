"""Versioned topics: a newer version of a topic that follows an older one.

``topic rides.trips.v2 --schema ... --follows rides.trips.v1 --map "fare_cents=CAST(fare *
100 AS BIGINT)"`` declares that runs reading ``rides_trips_v2`` read the older topic
first, up to where it was sealed (the *cut*: its end offsets when v2 was declared),
through the mapping, then v2's own records (`kappanb.versions.chain_source`).

Each column of the newer version is either mapped by a Flink SQL expression over the
older version's columns, or taken from the older's column of the same name (cast to the
newer type when the types differ). A newer column with neither is refused, as is an
expression quoting a column the older version does not have; a bare word that is no
column there is Flink's to judge when it plans the mapping. Only two versions chain: a
topic that follows another cannot be followed in turn (nor follow one that is followed).

No I/O here: the checks that need Kafka or Flink are the caller's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from kappanb.core.names import RESERVED, quote
from kappanb.core.schema import Column
from kappanb.exceptions import TopicMappingError, UnknownTopicError
from kappanb.registry.records import TopicSpec

MappingInput = Mapping[str, str] | Sequence[str] | None
"""A mapping as the API takes it (``{"col": "EXPR"}``) or the CLI (``["col=EXPR"]``)."""

_SQL_WORDS = """and as asc between bigint binary boolean both by bytes case cast char character
    coalesce date day dec decimal desc distinct div double else end epoch escape exists
    extract false first float for from hour if ilike in int integer interval is last
    leading like local millisecond minute month nanosecond not null nullif numeric or
    position precision quarter second similar smallint string substring then time
    timestamp timestamp_ltz tinyint to trailing trim true try_cast unknown varbinary
    varchar week when with without year zone array asymmetric century current_date
    current_row_timestamp current_time current_timestamp decade dow doy isodow isoyear
    localtime localtimestamp map microsecond millennium multiset row symmetric
    returning empty error wrapper conditional unconditional object key lax strict format
    json absent respect ignore nulls preceding following unbounded utf8 collate placing"""
_KEYWORDS = frozenset(_SQL_WORDS.split()) | RESERVED
"""Words of a mapping expression known to be SQL, not column names (compared in lower
case). Only for messages: a bare word that is neither one of these nor a column of the
older version is left to Flink's plan of the mapping (the authority on what SQL is), and
named as a likely unknown column only when Flink refuses the mapping because of it."""
_SUBQUERY_WORDS = frozenset({"select", "values", "table", "lateral"})
"""Words that start a query or a table reference: a mapping reads the older version's
record, never another table (a run's sources, lineage and `forget`'s derived tables are
the topics it declares)."""
_TOKEN = re.compile(
    r"'(?:[^']|'')*'"  # a string literal
    r"|`((?:[^`]|``)+)`"  # a quoted identifier
    r"|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"  # a number
    r"|([A-Za-z_][A-Za-z0-9_$]*)(\s*\()?"  # a word; a function when '(' follows
    r"|(\S)",
    re.S,
)
NEXT_PREFIX = "_kappanb_next_"
"""The older side's computed column of the newer event time (its watermark is on it)."""


def parse_mapping(items: MappingInput) -> dict[str, str]:
    """``{"col": "EXPR"}`` from either form; refuse an entry without ``=`` or a column
    given twice."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        pairs = [(str(k).strip(), str(v).strip()) for k, v in items.items()]
    else:
        pairs = []
        for item in items:
            column, sep, expression = item.partition("=")
            if not sep or not column.strip():
                raise TopicMappingError(
                    f'--map {item!r}: write COLUMN=EXPR, e.g. --map "fare_cents=CAST(fare * '
                    '100 AS BIGINT)" (a column of the newer topic, a Flink SQL expression '
                    "over the older one's columns)"
                )
            pairs.append((column.strip().strip("`"), expression.strip()))
    found: dict[str, str] = {}
    for column, expression in pairs:
        if column in found:
            raise TopicMappingError(f"--map gives column {column!r} twice: keep one")
        if not expression:
            raise TopicMappingError(
                f"--map {column}=: the expression is empty; write {column}=NULL for no value"
            )
        found[column] = expression
    return found


def referenced_columns(expression: str) -> list[str]:
    """The column names an expression may read: quoted identifiers, and the bare words
    that are neither known SQL words nor function names (`unknown_words`).

    Refuses only what must not reach Flink's plan: text that could end or escape the
    ``CAST(<expression> AS <type>)`` it is put in (an unbalanced parenthesis or quote, a
    ``;``, a comment), and a subquery or table reference (``SELECT``, ``VALUES``,
    ``TABLE``, ``LATERAL``), which would read a table that is not the older version. What
    is left inside the parentheses is one expression over the older record; whether it is
    valid SQL is Flink's to say (`kappanb.versions.following.check_planned`)."""
    names: list[str] = []
    depth = 0
    for match in _TOKEN.finditer(expression):
        quoted, word, call, other = match.group(1), match.group(2), match.group(3), match.group(4)
        if quoted is not None:
            names.append(quoted.replace("``", "`"))
        elif word is not None:
            if word.lower() in _SUBQUERY_WORDS:
                raise TopicMappingError(
                    f"--map expression {expression!r}: {word.upper()} would read another "
                    "table; a mapping is an expression over the older version's columns "
                    "(to add data from elsewhere, join it in the job's SQL). Nothing was created"
                )
            depth += 1 if call else 0
            if not call and word.lower() not in _KEYWORDS:
                names.append(word)
        elif other is not None:
            depth += {"(": 1, ")": -1}.get(other, 0)
            two = expression[match.start() : match.start() + 2]
            if depth < 0 or other == ";" or other in "'`" or two in ("--", "/*"):
                raise TopicMappingError(
                    f"--map expression {expression!r} does not parse as one SQL expression "
                    "(unbalanced parentheses or quotes, a ';' or a comment). Nothing was created"
                )
    if depth != 0:
        raise TopicMappingError(
            f"--map expression {expression!r} does not parse as one SQL expression "
            "(unbalanced parentheses). Nothing was created"
        )
    return names


def quoted_columns(expression: str) -> list[str]:
    """The identifiers an expression quotes (```fare```): certainly column names."""
    return [m.group(1).replace("``", "`") for m in _TOKEN.finditer(expression) if m.group(1)]


def unknown_words(newer: TopicSpec, older: TopicSpec) -> dict[str, list[str]]:
    """Per mapped column, the bare words of its expression that are neither known SQL
    words nor columns of ``older``: unknown columns, or SQL words kappanb does not list.
    Flink's plan tells which (`kappanb.versions.following.check_planned`)."""
    older_names = {c.name for c in older.columns}
    found: dict[str, list[str]] = {}
    for name, expression in newer.mapping:
        quoted = set(quoted_columns(expression))
        words = [n for n in referenced_columns(expression) if n not in older_names]
        unknown = [n for n in dict.fromkeys(words) if n not in quoted]
        if unknown:
            found[name] = unknown
    return found


def _plain(sql_type: str) -> str:
    return re.sub(r"\s+NOT\s+NULL\b", "", sql_type, flags=re.I).strip()


def column_sources(newer: TopicSpec, older: TopicSpec) -> list[tuple[Column, str]]:
    """Each column of ``newer`` with the SQL expression over ``older``'s columns that
    gives it, cast to its type (nullable) unless it is the older column as it is."""
    mapped = dict(newer.mapping)
    older_types = {c.name: c.type for c in older.columns}
    found: list[tuple[Column, str]] = []
    for column in newer.columns:
        if column.name in mapped:
            expression = f"CAST({mapped[column.name]} AS {_plain(column.type)})"
        elif _plain(older_types[column.name]) == _plain(column.type):
            expression = quote(column.name)
        else:
            expression = f"CAST({quote(column.name)} AS {_plain(column.type)})"
        found.append((column, expression))
    return found


def check_mapping(newer: TopicSpec, older: TopicSpec) -> None:
    """Refuse a mapping that leaves a newer column without a source, maps a column the
    newer version does not have, quotes a column the older version does not have, or
    could escape its expression (`referenced_columns`). A bare word that is no column of
    the older version is left to Flink's plan (`unknown_words`)."""
    newer_names = [c.name for c in newer.columns]
    older_names = [c.name for c in older.columns]
    for name, _expression in newer.mapping:
        if name not in newer_names:
            raise TopicMappingError(
                f"--map {name}=...: {newer.name} has no column {name!r}; its columns are "
                f"{', '.join(newer_names)}"
            )
    mapped = dict(newer.mapping)
    for column in newer.columns:
        if column.name not in mapped and column.name not in older_names:
            what = " (its event time)" if column.name == newer.event_time else ""
            raise TopicMappingError(
                f"column {column.name!r} of {newer.name}{what} has no value from "
                f"{older.name}, which has no column of that name: map it, e.g. --map "
                f'"{column.name}=<expression over {", ".join(older_names)}>", or --map '
                f"{column.name}=NULL to leave it empty in the older records. Nothing was created"
            )
    for name, expression in newer.mapping:
        referenced_columns(expression)  # refuses what must not reach Flink (see there)
        unknown = [n for n in quoted_columns(expression) if n not in older_names]
        if unknown:
            raise TopicMappingError(
                f"--map {name}={expression}: {', '.join(repr(n) for n in unknown)} "
                f"{'is not a column' if len(unknown) == 1 else 'are not columns'} of "
                f"{older.name}, whose columns are {', '.join(older_names)}. The expression "
                "reads the older version's records. Nothing was created"
            )


def check_follows(newer: TopicSpec, topics: Iterable[TopicSpec]) -> TopicSpec:
    """The older topic ``newer`` may follow, or why not (see the module docstring)."""
    assert newer.follows is not None
    known = {t.name: t for t in topics}
    if newer.follows == newer.name:
        raise TopicMappingError(
            f"--follows {newer.name}: a topic cannot follow itself; name the older version "
            "it replaces (e.g. --follows rides.trips.v1)"
        )
    older = known.get(newer.follows)
    if older is None:
        raise UnknownTopicError(
            f"--follows {newer.follows}: no such topic is declared "
            f"({', '.join(known) or 'none yet'}); declare the older version first"
        )
    if older.compact or newer.compact:
        which = older.name if older.compact else newer.name
        raise TopicMappingError(
            f"--follows: {which} is compacted (read as a table of the latest value per key), "
            "which has no order to continue from; versioned topics are event logs"
        )
    if older.follows is not None:
        raise TopicMappingError(
            f"--follows {older.name}: {older.name} itself follows {older.follows}, and only "
            "two versions chain (one older, one newer); declare the newest version to follow "
            f"{older.name} once nothing reads {older.follows}'s history, or map both into a job"
        )
    for other in known.values():
        if other.name != newer.name and other.follows == older.name:
            raise TopicMappingError(
                f"--follows {older.name}: {other.name} follows it already (sealed at "
                f"{other.cut or 'its end'}); a topic version has one successor"
            )
        if other.follows == newer.name:
            raise TopicMappingError(
                f"{other.name} follows {newer.name}, and only two versions chain: "
                f"{newer.name} cannot follow another topic in turn"
            )
    check_mapping(newer, older)
    return older


def follower_of(topics: Iterable[TopicSpec], name: str) -> TopicSpec | None:
    """The topic that follows ``name`` (which is then sealed), if any."""
    return next((t for t in topics if t.follows == name), None)


def older_of(topics: Iterable[TopicSpec], newer: TopicSpec) -> TopicSpec | None:
    """The topic ``newer`` follows, if any (None also when it is no longer declared)."""
    if newer.follows is None:
        return None
    return next((t for t in topics if t.name == newer.follows), None)


def sealed_message(older: str, newer: TopicSpec) -> str:
    """Why events for ``older`` are refused, and where they go instead."""
    since = newer.created_at or "its declaration"
    return (
        f"{older} is sealed: {newer.name} follows it since {since} (runs read {older} up "
        f"to offsets {newer.cut or '-'}, then {newer.name}); produce to {newer.name}, in "
        "its schema. Nothing was sent"
    )
