"""What a run reads of versioned topics: for each topic it reads that follows an older
version (`kappanb.versions.chain`), whether it reads the older one too, up to the cut.

A run from ``latest`` reads the newer topic alone; any other start reads the older
version's records from that start to the cut first. ``--from archive``, partition
offsets and ``--until`` a time are refused for such a topic before anything starts:
each names a position in one topic, and the chain is two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kappanb.core.positions import ReadRange
from kappanb.exceptions import StartPositionError, UnknownTopicError
from kappanb.kafka.run_offsets import Offsets
from kappanb.monitor.bounded_reads import BoundedRead
from kappanb.registry.base import Registry
from kappanb.registry.records import JobVersion, RunRecord, TopicSpec
from kappanb.versions import chain, chain_source

OlderReads = dict[str, TopicSpec]
"""Per newer topic a run reads, the older version it reads first."""


def older_reads(
    declared: Sequence[TopicSpec], topics: Sequence[TopicSpec], rng: ReadRange
) -> OlderReads:
    """The older versions a run of ``rng`` reading ``topics`` reads first."""
    found: OlderReads = {}
    for topic in topics:
        if not chain_source.reads_older(topic, rng):
            continue
        older = chain.older_of(declared, topic)
        if older is None:
            raise UnknownTopicError(
                f"{topic.name} follows {topic.follows}, which is no longer declared: declare "
                f"{topic.follows} again (its schema as before) to read {topic.name}'s history"
            )
        found[topic.name] = older
    return found


def check_chain_range(job_version: JobVersion, topics: Sequence[TopicSpec], rng: ReadRange) -> None:
    """Refuse a start or end that names a position in one topic of a chain."""
    chained = [t for t in topics if t.follows is not None]
    if not chained:
        return
    topic = chained[0]
    command = f"{job_version.job} {job_version.label}"
    both = f"{topic.follows} (up to its cut {topic.cut}) then {topic.name}"
    if rng.from_archive:
        raise StartPositionError(
            f"replay {command} --from archive: {topic.name} follows {topic.follows}, and "
            f"a replay from the archive of such a chain is not supported; replay from the "
            f"log (--from earliest) to read {both}. Nothing was started"
        )
    if rng.uses_offsets():
        raise StartPositionError(
            f"{command} --from {rng.start}: partition offsets name a position in one topic, "
            f"and {topic.name} is read as {both}; use earliest, latest or a timestamp"
        )
    if rng.until not in (None, "latest"):
        raise StartPositionError(
            f"{command} --until {rng.until}: {topic.name} is read as {both}, and the "
            "older side ends at its cut; use --until latest, or filter on the event time "
            "in the job's SQL"
        )


def bounded_reads(
    olders: Mapping[str, TopicSpec], topics: Sequence[TopicSpec]
) -> list[BoundedRead]:
    """The older versions as monitoring judges them: read up to the cut."""
    by_name = {t.name: t for t in topics}
    return [
        BoundedRead(older.name, chain_source.older_table(by_name[newer]),
                    by_name[newer].cut_offsets)
        for newer, older in olders.items()
    ]  # fmt: skip


def read_topics(olders: Mapping[str, TopicSpec], topics: Sequence[TopicSpec]) -> list[TopicSpec]:
    """The topics a run reads from Kafka: the older versions, then ``topics`` (each once:
    a job may read an older version's table beside its follower's)."""
    return list({t.name: t for t in [*olders.values(), *topics]}.values())


def cut_offsets(olders: Mapping[str, TopicSpec], topics: Sequence[TopicSpec]) -> Offsets:
    """Per older topic, where the run stops reading it."""
    by_name = {t.name: t for t in topics}
    return {older.name: by_name[newer].cut_offsets for newer, older in olders.items()}


def older_sides(registry: Registry, runs: Sequence[RunRecord]) -> dict[int, list[BoundedRead]]:
    """Per run (of a job version) that reads an older topic version, those reads (for
    figures: a run whose older version is no longer declared is left out, not refused)."""
    declared = registry.topics()
    by_name = {t.name: t for t in declared}
    versions = {(v.job, v.version): v for v in registry.versions()}
    found: dict[int, list[BoundedRead]] = {}
    for run in runs:
        job_version = versions.get((run.job, run.version))
        if job_version is None:  # an archive's run, or a job the registry lost
            continue
        topics = [by_name[name] for name in job_version.sources if name in by_name]
        try:
            olders = older_reads(declared, topics, ReadRange(run.start, run.until))
        except UnknownTopicError:  # figures go on without it (starting such a run says why)
            continue
        if olders:
            found[run.id] = bounded_reads(olders, topics)
    return found
