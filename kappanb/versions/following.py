"""Declaring a topic version that follows an older one: the checks against the other
topics, the cut (where the older version is sealed) and Flink's plan of the mapping.

Every check comes before anything is created: a declaration that fails leaves no Kafka
topic and no registry entry. Sealing is recording the cut in the newer topic's spec;
from then on `produce` to the older topic is refused (`check_not_sealed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kappanb.core.names import quote
from kappanb.core.positions import ReadRange
from kappanb.core.secrets import redacted_errors
from kappanb.exceptions import JobDefinitionError, SealedTopicError, TopicMappingError
from kappanb.flink.sql import DEFAULT_JOB_CONFIG, FlinkSqlClient
from kappanb.kafka.run_offsets import head_offsets
from kappanb.registry.records import TopicSpec
from kappanb.stack.endpoints import Endpoints
from kappanb.versions import chain, chain_source
from kappanb.versions.planner import plan_query


def checked_chain(spec: TopicSpec, topics: Sequence[TopicSpec]) -> TopicSpec | None:
    """The older topic ``spec`` follows (None if it follows none), after every check that
    needs no stack; a redeclaration of an older topic must keep its follower's mapping
    valid (Flink plans it again: `replanned_follower`)."""
    follower = chain.follower_of(topics, spec.name)
    if follower is not None and follower.name != spec.name:
        chain.check_mapping(follower, spec)
    return chain.check_follows(spec, topics) if spec.follows is not None else None


def replanned_follower(spec: TopicSpec, topics: Sequence[TopicSpec]) -> TopicSpec | None:
    """The topic that follows ``spec`` (being declared again), whose mapping Flink must
    plan over ``spec``'s new columns before the redeclaration is kept; None if none."""
    follower = chain.follower_of(topics, spec.name)
    return follower if follower is not None and follower.name != spec.name else None


def with_known_cut(spec: TopicSpec, topics: Sequence[TopicSpec]) -> TopicSpec:
    """A redeclaration that follows the same topic keeps the cut it was sealed at."""
    known = next((t for t in topics if t.name == spec.name), None)
    if spec.follows is not None and known is not None and known.follows == spec.follows:
        return replace(spec, cut=known.cut)
    return spec


def sealed(spec: TopicSpec, older: TopicSpec, endpoints: Endpoints) -> TopicSpec:
    """``spec`` with its cut: the recorded one, else the older topic's end offsets now."""
    if spec.cut:
        return spec
    heads = head_offsets(endpoints.kafka, [older.name]).get(older.name)
    if not heads:
        raise TopicMappingError(
            f"--follows {older.name}: the topic is declared but Kafka has no such topic "
            f"on {endpoints.kafka.bootstrap_servers}; declare {older.name} again to create it"
        )
    return replace(spec, cut=",".join(f"{p}:{o}" for p, o in sorted(heads.items())))


def check_planned(
    client: FlinkSqlClient, endpoints: Endpoints, older: TopicSpec, spec: TopicSpec
) -> None:
    """Plan ``SELECT * FROM <table>`` over the chain with Flink: a mapping whose types do
    not fit (or that does not parse) is refused here, not when a job first runs."""
    planned = spec if chain_source.reads_older(spec, ReadRange()) else replace(spec, cut="0:1")
    statements = chain_source.source_statements(
        older, planned, endpoints.kafka, "kappanb.plan", ReadRange()
    )
    tenv = client.table_env(DEFAULT_JOB_CONFIG)
    try:
        with redacted_errors(endpoints.kafka.secrets):
            plan_query(tenv, statements, f"SELECT * FROM {quote(spec.table)}")
    except JobDefinitionError as exc:
        raise TopicMappingError(_unplanned(older, spec, str(exc))) from None


def _unplanned(older: TopicSpec, spec: TopicSpec, flink: str) -> str:
    """Why Flink refused the mapping: a bare word Flink names that is no column of the
    older version first (the likely typo), then Flink's own message."""
    flink = flink.rstrip(". ")
    said = flink.lower()
    for name, words in chain.unknown_words(spec, older).items():
        named = [w for w in words if f"'{w.lower()}'" in said or f"`{w.lower()}`" in said]
        if named:
            expression = dict(spec.mapping)[name]
            columns = ", ".join(c.name for c in older.columns)
            return (
                f"--map {name}={expression}: {', '.join(repr(w) for w in named)} "
                f"{'is not a column' if len(named) == 1 else 'are not columns'} of "
                f"{older.name}, whose columns are {columns}. The expression reads the older "
                f"version's records (Flink: {flink}). Nothing was created"
            )
    mapping = ", ".join(f"{c}={e}" for c, e in spec.mapping) or "none"
    return (
        f"the mapping from {older.name} to {spec.name} (--map {mapping}) does not plan "
        f"in Flink: {flink}. Nothing was created"
    )


def check_not_sealed(topics: Sequence[TopicSpec], name: str) -> None:
    """Refuse events for a topic a newer version follows."""
    follower = chain.follower_of(topics, name)
    if follower is not None:
        raise SealedTopicError(chain.sealed_message(name, follower))
