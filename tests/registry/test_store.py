from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from kappanb.core.schema import Column
from kappanb.registry.records import JobVersion, RunRecord, TopicSpec
from kappanb.registry.store import LocalRegistry


@pytest.fixture
def registry(tmp_path: Path) -> LocalRegistry:
    return LocalRegistry(tmp_path / "r.sqlite")


def _draft(job: str, digest: str, text: str = "SELECT 1") -> JobVersion:
    return JobVersion(
        job=job,
        version=0,
        kind="sql",
        text=text,
        digest=digest,
        created_at="",
        note="first",
        output=(Column("day", "DATE"), Column("n", "BIGINT")),
        key=("day",),
        updating=True,
        sources=("payments",),
    )


def _run(job: str = "j", version: int = 1, state: str = "RUNNING") -> RunRecord:
    return RunRecord(
        id=0,
        job=job,
        version=version,
        mode="live",
        table=f"{job}__v{version}",
        group_id=f"kappanb-{job}-v{version}",
        start="earliest",
        until=None,
        flink_job_id="abc",
        state=state,
        started_at="2026-03-04 12:00:00 UTC",
    )


def test_creates_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "r.sqlite"
    LocalRegistry(path)
    assert path.is_file()


def test_topics_round_trip(registry: LocalRegistry) -> None:
    topic = TopicSpec(
        name="payments.captured.v1",
        table="payments_captured_v1",
        columns=(Column("id", "STRING"), Column("ts", "TIMESTAMP(3)")),
        event_time="ts",
        watermark_ms=30_000,
        partitions=3,
        created_at="now",
    )
    other = TopicSpec("merchants", "merchants", (Column("m", "STRING"),), compact=True, key="m")
    assert registry.put_topic(topic) == topic  # a creation time it has is kept
    stored_other = registry.put_topic(other)
    assert stored_other.created_at.endswith(" UTC")  # stamped when it had none
    assert stored_other == replace(other, created_at=stored_other.created_at)
    assert registry.topics() == [stored_other, topic]  # ordered by name


def test_put_topic_replaces(registry: LocalRegistry) -> None:
    topic = TopicSpec("t", "t", (Column("a", "INT"),))
    registry.put_topic(topic)
    replaced = registry.put_topic(replace(topic, partitions=4))
    assert replaced.partitions == 4
    assert registry.topics() == [replaced]


def test_add_version_numbering(registry: LocalRegistry) -> None:
    v1, created1 = registry.add_version(_draft("j", "d1"))
    assert created1 and v1.version == 1 and v1.created_at.endswith("UTC")
    assert v1 == replace(_draft("j", "d1"), version=1, created_at=v1.created_at)

    again, created_again = registry.add_version(_draft("j", "d1", text="-- same\nSELECT 1"))
    assert not created_again
    assert again == v1

    v2, created2 = registry.add_version(_draft("j", "d2"))
    assert created2 and v2.version == 2

    # an old digest still maps to its old version, no new number
    back, created_back = registry.add_version(_draft("j", "d1"))
    assert (back.version, created_back) == (1, False)


def test_versions_are_per_job(registry: LocalRegistry) -> None:
    registry.add_version(_draft("a", "d1"))
    registry.add_version(_draft("a", "d2"))
    other, created = registry.add_version(_draft("b", "d1"))  # same digest, other job
    assert created and other.version == 1
    assert [(v.job, v.version) for v in registry.versions()] == [("a", 1), ("a", 2), ("b", 1)]
    assert [v.digest for v in registry.versions("a")] == ["d1", "d2"]
    assert registry.versions("missing") == []


def test_add_run_assigns_ids(registry: LocalRegistry) -> None:
    first = registry.add_run(_run())
    second = registry.add_run(_run(version=2))
    assert first.id >= 1
    assert second.id > first.id
    assert first == replace(_run(), id=first.id)
    assert registry.runs() == [first, second]


def test_update_run(registry: LocalRegistry) -> None:
    run = registry.add_run(_run())
    updated = registry.update_run(run.id, state="FINISHED", ended_at="later", savepoint="/sp")
    assert updated == replace(run, state="FINISHED", ended_at="later", savepoint="/sp")
    assert not updated.active
    assert registry.runs() == [updated]


def test_runs_filters(registry: LocalRegistry) -> None:
    a1 = registry.add_run(_run("a", 1))
    a2 = registry.add_run(_run("a", 2))
    b1 = registry.add_run(_run("b", 1))
    assert registry.runs("a") == [a1, a2]
    assert registry.runs("a", 2) == [a2]
    assert registry.runs(version=1) == [a1, b1]
    assert registry.runs("c") == []


def test_update_run_only_while_it_has_the_same_flink_job(registry: LocalRegistry) -> None:
    run = registry.add_run(_run())
    resumed = registry.update_run(run.id, flink_job_id="new", state="RUNNING")
    # A reconcile based on the old Flink job must not overwrite the resumed run.
    stale = registry.update_run(run.id, if_flink_job="abc", state="LOST")
    assert stale == resumed and registry.runs()[0].state == "RUNNING"
    assert registry.update_run(run.id, if_flink_job="new", state="FAILED").state == "FAILED"


def test_two_registries_share_one_file(tmp_path: Path) -> None:
    first = LocalRegistry(tmp_path / "r.sqlite")
    second = LocalRegistry(tmp_path / "r.sqlite")
    first.put_topic(TopicSpec("t", "t", (Column("a", "INT"),)))
    v1, _ = second.add_version(_draft("j", "d1"))
    run = first.add_run(_run())
    assert [t.name for t in second.topics()] == ["t"]
    assert first.versions("j") == [v1]
    assert first.add_version(_draft("j", "d1")) == (v1, False)
    assert first.add_version(_draft("j", "d2"))[0].version == 2
    assert second.runs() == [run]


def test_concurrent_add_version_gives_consecutive_numbers(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    LocalRegistry(path)
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def define(i: int) -> None:
        registry = LocalRegistry(path)
        barrier.wait()
        try:
            for j in range(3):
                job_version, created = registry.add_version(_draft("j", f"d{i}-{j}"))
                assert created
                with lock:
                    results.append(job_version.version)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=define, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == list(range(1, 25))
    stored = LocalRegistry(path).versions("j")
    assert [v.version for v in stored] == list(range(1, 25))
    assert len({v.digest for v in stored}) == 24


def test_switches_are_serialised_and_a_stale_switch_is_refused(registry: LocalRegistry) -> None:
    from kappanb.exceptions import PromoteError

    assert registry.serving("j") is None
    first = registry.switch("j", 1, "j__v1", kind="first live run", expect_from=None)
    assert registry.serving("j") == first
    registry.switch("j", 2, "j__v2", kind="promote", expect_from=1, reason="fix", forced=True)
    with pytest.raises(PromoteError, match=r"changed meanwhile .* v2"):
        registry.switch("j", 3, "j__v3", kind="promote", expect_from=1)  # checked before v2
    current = registry.serving("j")
    assert current is not None and (current.to_version, current.forced) == (2, True)

    def mirror_fails() -> None:
        raise OSError("catalog unreachable")

    with pytest.raises(OSError):
        registry.switch("j", 1, "j__v1", kind="rollback", expect_from=2, also=mirror_fails)
    assert [s.to_version for s in registry.switches("j")] == [1, 2]  # nothing half-done

    won: list[int] = []
    lost: list[str] = []

    def promote(to: int) -> None:
        try:
            registry.switch("j", to, f"j__v{to}", kind="promote", expect_from=2)
            won.append(to)
        except PromoteError as exc:
            lost.append(str(exc))

    racers = [threading.Thread(target=promote, args=(n,)) for n in (3, 4)]
    for thread in racers:
        thread.start()
    for thread in racers:
        thread.join()
    assert len(won) == 1 and len(lost) == 1 and "changed meanwhile" in lost[0]
