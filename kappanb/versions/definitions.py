"""Declaring topics and defining job versions (validated before anything is recorded)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from kappanb.core import sqltext
from kappanb.core.names import (
    check_column_name,
    check_job_name,
    check_table_name,
    check_topic_name,
)
from kappanb.core.names import table_name_for_topic as default_table
from kappanb.core.positions import ReadRange
from kappanb.core.schema import check_event_time, parse_columns, parse_duration_ms
from kappanb.core.secrets import redacted_errors
from kappanb.exceptions import (
    InvalidNameError,
    JobDefinitionError,
    KappaError,
    SchemaError,
    TopicMappingError,
    UnknownJobError,
    UnknownTopicError,
    UnknownVersionError,
)
from kappanb.flink.sql import DEFAULT_JOB_CONFIG, FlinkSqlClient
from kappanb.registry.base import Registry
from kappanb.registry.kinds import JobKind
from kappanb.registry.records import JobVersion, TopicSpec
from kappanb.stack.endpoints import Endpoints
from kappanb.versions import chain, chain_source, ddl, malformed
from kappanb.versions.planner import ParseError, flink_parser, plan_python, plan_query, split_cell
from kappanb.versions.python_job import compiled

MALFORMED_POLICIES = ("dlq", "fail")


def topic_spec(
    name: str,
    schema: str,
    *,
    event_time: str | None = None,
    watermark: str = "0 s",
    partitions: int = 1,
    compact: bool = False,
    key: str | None = None,
    table: str | None = None,
    on_malformed: str | None = None,
    dlq: str | None = None,
    retention: str | None = None,
    follows: str | None = None,
    mapping: chain.MappingInput = None,
) -> TopicSpec:
    """Check a topic declaration; raise with what to change. ``follows``/``mapping``: the
    older version it follows and how (`kappanb.versions.chain`; checked against the other
    topics by `chain.check_follows`)."""
    check_topic_name(name)
    if follows is not None:
        check_topic_name(follows)
    mapped = tuple(chain.parse_mapping(mapping).items())
    if mapped and follows is None:
        raise TopicMappingError(
            "--map gives columns from an older version of the topic: name it with --follows"
        )
    columns = parse_columns(schema)
    policy = malformed_policy(name, compact, on_malformed, dlq)
    retention_ms = retention_of(retention, compact)
    check_event_time(columns, event_time)
    if event_time is None and parse_duration_ms(watermark) > 0:
        raise SchemaError("--watermark needs --event-time: the column the watermark follows")
    if partitions < 1:
        raise SchemaError(f"--partitions must be at least 1, not {partitions}")
    if compact and not key:
        raise SchemaError("a compacted topic keeps the latest value per key: add --key COLUMN")
    if key is not None and key not in [c.name for c in columns]:
        raise SchemaError(f"--key {key!r} is not a column of the schema")
    key_type = next((c.type for c in columns if c.name == key), "STRING")
    if compact and not key_type.startswith(("STRING", "VARCHAR")):
        raise SchemaError(
            f"the key of a compacted topic is the message key, text: --key {key} must be a "
            f"STRING column, not {key_type}"
        )
    table = check_table_name(table) if table is not None else _derived_table(name)
    return TopicSpec(
        name=name,
        table=table,
        columns=columns,
        event_time=event_time,
        watermark_ms=parse_duration_ms(watermark),
        partitions=partitions,
        compact=compact,
        key=key,
        on_malformed=policy,
        dlq=dlq,
        retention_ms=retention_ms,
        follows=follows,
        mapping=mapped,
    )


def retention_of(retention: str | None, compact: bool) -> int | None:
    """The checked --retention in milliseconds (None: not given, the log keeps everything)."""
    if retention is None:
        return None
    if compact:
        raise SchemaError(
            "--retention deletes a topic's old records by time; a compacted topic keeps the "
            "latest value per key instead: drop --retention or --compact"
        )
    try:
        ms = parse_duration_ms(retention)
    except SchemaError:
        ms = -1
    if ms <= 0:
        raise SchemaError(
            f"--retention {retention!r} is not a time to keep records: write e.g. '7 d', "
            "'12 h' or '30 min'; leave --retention out to keep every record forever"
        )
    return ms


def _derived_table(topic: str) -> str:
    return check_table_name(default_table(topic), topic)


def malformed_policy(name: str, compact: bool, on_malformed: str | None, dlq: str | None) -> str:
    """The checked --on-malformed policy (default dlq, fail for a compacted topic)."""
    policy = on_malformed or ("dlq" if dlq or not compact else "fail")
    if policy not in MALFORMED_POLICIES:
        raise SchemaError(
            f"--on-malformed is 'dlq' (the default: bad events go to a dead-letter topic and "
            f"are counted) or 'fail' (the run fails on the first bad event), not {policy!r}"
        )
    if compact and policy == "dlq":
        raise SchemaError(
            "a compacted topic is read as a table (upsert-kafka), which cannot route bad events "
            "to a dead-letter topic: declare it with --on-malformed fail (its default) and "
            "without --dlq"
        )
    if dlq is None:
        return policy
    if policy == "fail":
        raise SchemaError(
            "--dlq names the dead-letter topic of --on-malformed dlq; with --on-malformed fail "
            "a bad event fails the run and nothing is routed: drop one of the two options"
        )
    try:
        check_topic_name(dlq)
    except InvalidNameError as exc:
        raise SchemaError(f"--dlq: {exc}") from None
    if dlq == name:
        raise SchemaError(
            f"--dlq {dlq} is the topic itself: bad events would be read again; "
            f"choose another name (the default is {name}.dlq)"
        )
    return policy


def check_redeclaration(registry: Registry, spec: TopicSpec) -> None:
    """Refuse a declaration that would change what recorded job versions read."""
    for known in registry.topics():
        if known.name != spec.name and known.table == spec.table:
            raise SchemaError(
                f"SQL table {spec.table!r} already reads topic {known.name}: "
                "choose another with --table"
            )
        # The malformed-event policy may change: it applies to runs started from then on.
        # So may the retention: it changes how far back the log reaches, not what it says.
        same = _declared(replace(known, partitions=spec.partitions)) == _declared(spec)
        if known.name == spec.name and not same:
            # A topic's follower reads it too (through the mapping).
            names = {spec.name} | {t.name for t in registry.topics() if t.follows == spec.name}
            readers = [f"{v.job} {v.label}" for v in registry.versions()
                       if names & set(v.sources)]  # fmt: skip
            if readers:
                raise SchemaError(
                    f"topic {spec.name} is read by {', '.join(readers)} as declared before; "
                    "a different schema, event time, watermark, key or table would change "
                    "them. Declare a new topic version instead (e.g. ….v2)"
                )


def _declared(spec: TopicSpec) -> TopicSpec:
    """What of a declaration the job versions reading the topic depend on."""
    return replace(spec, created_at="", on_malformed="", dlq=None, retention_ms=None)


def find_topic(registry: Registry, name: str) -> TopicSpec:
    topics = registry.topics()
    for topic in topics:
        if topic.name == name or topic.table == name:
            return topic
    known = ", ".join(t.name for t in topics) or "none yet"
    raise UnknownTopicError(
        f"unknown topic {name!r}; declared topics: {known}. "
        "Declare it with `topic NAME --schema ...`"
    )


def referenced_topics(cell: str, topics: Sequence[TopicSpec]) -> list[TopicSpec]:
    """The declared topics whose SQL table name the cell mentions."""
    text = sqltext.normalise(cell)
    return [
        t
        for t in topics
        if re.search(
            rf"(?<![\w.`]){re.escape(t.table)}(?![\w`])|"
            rf"`{re.escape(t.table)}`",
            text,
        )
    ]


def check_definition(
    registry: Registry, job: str, cell: str, *, key: Sequence[str] | None = None,
    python: bool = False, parse: ParseError | None = None,
) -> list[TopicSpec]:  # fmt: skip
    """Every check of a job definition that needs no Flink: the name, the keys, the cell's
    shape (SQL: setup, then one SELECT) and the declared topics it reads, which it returns.
    ``parse`` (see `running_flink_parser`) adds Flink's parse error to a refused shape."""
    check_job_name(job)
    for k in key or ():
        check_column_name(k, "key column")
    if python:
        compiled(cell, job)
    else:
        split_cell(cell, job, parse)
    topics = registry.topics()
    used = referenced_topics(cell, topics)
    if not used:
        known = ", ".join(f"{t.table} (topic {t.name})" for t in topics) or "none declared yet"
        raise JobDefinitionError(
            f"job {job!r} reads no declared topic; the SQL tables you can read are: {known}"
        )
    return used


def running_flink_parser(
    running: Callable[[], Endpoints | None], client: Callable[[Endpoints], FlinkSqlClient]
) -> ParseError:
    """Flink's parse error for a statement, asked only when a cell is refused and only of a
    stack that already runs (``running`` gives its endpoints, or None): never starts it."""

    def parse(text: str) -> str:
        try:
            endpoints = running()
            tenv = client(endpoints).table_env(DEFAULT_JOB_CONFIG) if endpoints else None
        except KappaError:
            return ""  # no Flink at hand: kappanb's own message stands alone
        return flink_parser(tenv)(text) if tenv is not None else ""

    return parse


def plan_version(
    client: FlinkSqlClient,
    endpoints: Endpoints,
    registry: Registry,
    job: str,
    cell: str,
    *,
    note: str = "",
    key: Sequence[str] | None = None,
    python: bool = False,
) -> JobVersion:
    """Plan the cell with Flink against the declared topics; return an unrecorded draft."""
    used = check_definition(registry, job, cell, key=key, python=python)
    declared = registry.topics()
    sources = [statement for t in used for statement in _planned_sources(t, declared, endpoints)]
    columns = [c.name for t in used for c in t.columns]  # for a near-name hint
    tenv = client.table_env(DEFAULT_JOB_CONFIG)
    kind: JobKind = "python" if python else "sql"
    with redacted_errors(endpoints.kafka.secrets):  # the sources' DDL holds them
        plan = (
            plan_python(tenv, sources, cell, job, key)
            if python
            else plan_query(tenv, sources, cell, key, job, columns)
        )
    return JobVersion(
        job=job,
        version=0,
        kind=kind,
        text=cell.strip("\n").rstrip() if python else cell.strip(),
        digest=sqltext.digest(cell, kind) + (f":key={','.join(plan.key)}" if key else ""),
        created_at="",
        note=note,
        output=plan.columns,
        key=plan.key,
        updating=plan.updating,
        sources=tuple(t.name for t in _read_by(plan.scanned, used)),
    )


def _planned_sources(
    topic: TopicSpec, declared: Sequence[TopicSpec], endpoints: Endpoints
) -> list[str]:
    """The statements a run from the log's start makes ``topic.table`` readable with: a
    topic that follows an older version is planned as the chain its runs read."""
    older = chain.older_of(declared, topic)
    if older is not None and chain_source.reads_older(topic, ReadRange()):
        return chain_source.source_statements(
            older, topic, endpoints.kafka, "kappanb.plan", ReadRange()
        )
    return ddl.source_statements(topic, endpoints.kafka, "kappanb.plan", ReadRange())


def _read_by(scanned: Sequence[str], mentioned: list[TopicSpec]) -> list[TopicSpec]:
    """The topics the plan really reads: a word that only looks like a table name (a
    column alias `AS payments`, a comment) is not a source. Unknown plan: all mentioned."""
    read = [
        t for t in mentioned
        if {t.table, malformed.log_table(t), chain_source.newer_view(t)} & set(scanned)
    ]  # fmt: skip
    return read or mentioned


def find_version(registry: Registry, job: str, version: int | None) -> JobVersion:
    job_versions = registry.versions(job)
    if not job_versions:
        jobs = sorted({v.job for v in registry.versions()})
        raise UnknownJobError(
            f"unknown job {job!r}; known jobs: {', '.join(jobs) or 'none yet'}. "
            "Define one with `%%kappa job NAME`"
        )
    if version is None:
        return job_versions[-1]
    for v in job_versions:
        if v.version == version:
            return v
    raise UnknownVersionError(
        f"{job} has no v{version}; its versions are {', '.join(v.label for v in job_versions)}"
    )
