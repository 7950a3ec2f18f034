"""The checks and the handoff of a replay from the archive (``replay NAME --from archive``).

Before anything is created, each topic the job reads has its archive's current snapshot
pinned (`kappanb.tables.archive_coverage.pin_archive`) and, per Kafka partition, a
handoff offset: one past the highest offset the snapshot holds (0 for a partition it
holds nothing of). The run reads the snapshot, then the log from the handoffs
(`kappanb.versions.archive_source`). It is refused, naming what to do, when a topic has no
archive or one that archived nothing, when the archive does not start at a partition's
first offset, when the log no longer has a handoff offset (retention deleted records the
archive had not caught up with: a gap), and when a topic that fails fast on malformed
events has some in its archive (the replay would fail on each, every time).

The run's record keeps the handoffs (``first_offsets``: its Kafka positions start there,
not at 0) and the snapshots (``archive_snapshots``), so `resume` rebuilds the same sources
and `status` shows "archive, then Kafka from ...".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kappanb.core.positions import ReadRange
from kappanb.exceptions import ArchiveNotFoundError, ArchiveReplayError, StartPositionError
from kappanb.kafka.connection import KafkaConnection
from kappanb.kafka.run_offsets import StartAt, offsets_of, offsets_text, start_offsets
from kappanb.registry.records import JobVersion, RunRecord, TopicSpec
from kappanb.tables.archive_coverage import PinnedArchive, pin_archive
from kappanb.tables.catalog import Catalog
from kappanb.versions import malformed
from kappanb.versions.archive_ddl import archive_table
from kappanb.versions.archive_source import Handoff

Handoffs = dict[str, Handoff]
"""Per topic name, where its history comes from."""


def plan_handoffs(
    catalog: Catalog, kafka: KafkaConnection, command: str, topics: Sequence[TopicSpec]
) -> Handoffs:
    """Pin each topic's archive and find its handoffs, or refuse (``command`` names the
    replay in the message). Reads only: nothing is created."""
    found: Handoffs = {}
    for topic in topics:
        pinned = pin_archive(catalog, archive_table(topic))
        if pinned is None or not pinned.coverage:
            raise ArchiveNotFoundError(no_archive(command, topic))
        check_malformed(command, topic, pinned)
        earliest = start_offsets(kafka, [topic.name], StartAt()).get(topic.name, {})
        found[topic.name] = handoff(command, topic.name, pinned, earliest)
    return found


def check_archive_range(
    job_version: JobVersion, topics: Sequence[TopicSpec], rng: ReadRange
) -> None:
    """The checks of ``--from archive`` that need no stack (see `checked_start`)."""
    command = f"replay {job_version.job} {job_version.label} --from archive"
    compacted = [t.name for t in topics if t.compact]
    if compacted:
        raise StartPositionError(
            f"{command}: {', '.join(compacted)} is compacted and read as a table (the latest "
            "value per key), which its log still holds: replay from the log, without --from"
        )
    if rng.until not in (None, "latest"):
        raise StartPositionError(
            f"{command} --until {rng.until}: a replay from the archive ends at the log's "
            "head (--until latest) or runs on (no --until); to stop at a time, filter on "
            "the event time in the job's SQL"
        )


def no_archive(command: str, topic: TopicSpec) -> str:
    return (
        f"{command} --from archive: topic {topic.name} has no archive, or its archive has "
        f"committed nothing yet. Start one with `archive {topic.name}`, wait until `status "
        f"{topic.name}` shows it has read the log, then replay --from archive; or replay from "
        "the log (--from earliest, or --from earliest-available if retention deleted its "
        "start). Nothing was started"
    )


def check_malformed(command: str, topic: TopicSpec, pinned: PinnedArchive) -> None:
    """Refuse when a fail-fast topic's archive holds malformed records (a routed topic's
    are left out: its runs sent them to its dead-letter topic when they met them)."""
    if malformed.routes(topic) or not pinned.malformed or pinned.first_malformed is None:
        return
    partition, offset = pinned.first_malformed
    raise ArchiveReplayError(
        f"{command} --from archive: the archive of {topic.name} holds {pinned.malformed} "
        f"malformed record(s), the first at partition {partition} offset {offset}, and the "
        "topic fails fast on them (--on-malformed fail): the replay would fail there. "
        f"Declare {topic.name} with --on-malformed dlq to leave them out, or replay from the "
        f"log after them (--from {partition}:{offset + 1}). Nothing was started"
    )


def handoff(
    command: str, topic: str, pinned: PinnedArchive, earliest: Mapping[int, int]
) -> Handoff:
    """Per partition of the log, the first offset the snapshot lacks; refuse a gap."""
    offsets: dict[int, int] = {}
    for partition, first_left in sorted(earliest.items()):
        low, high = pinned.coverage.get(partition, (0, -1))
        held = f"up to offset {high}" if high >= 0 else "nothing"
        if low > 0:
            raise ArchiveReplayError(
                f"{command} --from archive: the archive of {topic} starts partition "
                f"{partition} at offset {low}, so the records before it are in neither the "
                "archive nor (as it began after they were deleted) anywhere else. Replay from "
                "the log with --from earliest-available to accept that. Nothing was started"
            )
        if high + 1 < first_left:
            raise ArchiveReplayError(
                f"{command} --from archive: the archive of {topic} holds {held} of partition "
                f"{partition}, and the log starts at {first_left}: "
                f"offsets {high + 1} to {first_left - 1} are in neither (retention deleted "
                "them before the archive read them). Nothing was started; replay --from "
                "earliest-available to accept the gap"
            )
        offsets[partition] = high + 1
    return Handoff(topic, pinned.snapshot_id, offsets)


def handoff_offsets(handoffs: Handoffs) -> str:
    """The handoffs as a run's record keeps them (`RunRecord.first_offsets`)."""
    return offsets_text({t: dict(h.offsets) for t, h in handoffs.items()})


def snapshots_text(handoffs: Handoffs) -> str:
    """The pinned snapshots as a run's record keeps them (`RunRecord.archive_snapshots`)."""
    return ";".join(f"{t}@{h.snapshot_id}" for t, h in sorted(handoffs.items()))


def handoffs_of(run: RunRecord) -> Handoffs:
    """The handoffs a run from the archive recorded (to resume it with the same sources)."""
    offsets = offsets_of(run.first_offsets)
    found: Handoffs = {}
    for entry in filter(None, run.archive_snapshots.split(";")):
        topic, _, snapshot = entry.rpartition("@")
        found[topic] = Handoff(topic, int(snapshot), offsets.get(topic, {}))
    return found
