"""Task slots of the Flink cluster: how many it has, which jobs hold them, how many are free.

Counted from Flink's job list: each active job holds as many slots as its widest vertex
(one slot sharing group). Not from the TaskManager's slot report, which right after a
JobManager restart may still count the lost jobs' slots. `up` uses the count to resume
runs while slots last; `run`, `replay` and `resume` to refuse a parallelism the cluster
cannot schedule now (its tasks would wait, then fail for want of resources).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from kappanb.flink.rest import FlinkRest
from kappanb.registry.records import ACTIVE_STATES, RunRecord


@dataclass(frozen=True)
class SlotHolder:
    """An active Flink job and the slots it holds."""

    flink_job_id: str
    name: str
    slots: int


@dataclass(frozen=True)
class SlotCount:
    """The cluster's slots and their holders, as Flink's job list says now."""

    total: int
    holders: tuple[SlotHolder, ...]

    def free(self, releasing: Collection[str] = ()) -> int:
        """Slots free once the jobs ``releasing`` (Flink job ids) are gone."""
        held = sum(h.slots for h in self.holders if h.flink_job_id not in releasing)
        return self.total - held


def slot_holders(rest: FlinkRest) -> tuple[SlotHolder, ...]:
    """Flink's active jobs, each with its widest vertex's parallelism."""
    holders = []
    for job in rest.jobs():
        if str(job.get("state")) in ACTIVE_STATES:
            jid = str(job["jid"])
            vertices = rest.job(jid).get("vertices", [])
            widest = max((int(v.get("parallelism", 1)) for v in vertices), default=1)
            holders.append(SlotHolder(jid, str(job.get("name", "")), widest))
    return tuple(holders)


def slots_in_use(rest: FlinkRest) -> int:
    """Task slots Flink's active jobs take now."""
    return sum(h.slots for h in slot_holders(rest))


def count_slots(rest: FlinkRest) -> SlotCount:
    return SlotCount(int(rest.overview().get("slots-total", 0)), slot_holders(rest))


def describe_holders(holders: Sequence[SlotHolder], runs: Sequence[RunRecord]) -> list[str]:
    """Who holds slots, in words: kappanb's runs by job, version and mode; other jobs by
    their Flink name and id."""
    by_job_id = {r.flink_job_id: r for r in runs if r.flink_job_id}
    described = []
    for h in holders:
        run = by_job_id.get(h.flink_job_id)
        who = (
            f"{run.job} v{run.version} ({run.mode}, run #{run.id})"
            if run is not None
            else f"Flink job {h.name!r} ({h.flink_job_id[:8]}, not kappanb's)"
        )
        described.append(f"{who} holds {h.slots}")
    return described
