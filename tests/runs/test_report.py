"""A run handle's caught-up / finished properties and events, over scripted watches."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from kappanb.exceptions import RunNotFoundError
from kappanb.monitor.history import CaughtUp
from kappanb.monitor.sample import Sample
from kappanb.monitor.watch_set import WatchedRun, WatchSet
from kappanb.monitor.watcher import RunWatch
from kappanb.registry.records import RunRecord
from kappanb.runs.report import RunHandle

T = "t"


def record(run_id: int, mode: str, until: str | None = None) -> RunRecord:
    return RunRecord(id=run_id, job="daily", version=run_id, mode=mode, table=f"daily__v{run_id}",
                     group_id=f"g{run_id}", start="earliest", until=until, flink_job_id="f",
                     state="RUNNING", started_at="now")  # fmt: skip


def closing(gap: list[int], final: str = "RUNNING") -> Callable[[], Sample]:
    """Samples ``gap`` records behind in turn, each committed in a new checkpoint."""
    steps = iter(gap)
    taken = iter(range(1, 10**6))

    def take() -> Sample:
        behind = next(steps, None)
        state = "RUNNING" if behind is not None else final
        read = 1000 - (behind if behind is not None else 0)
        return Sample(at=time.time(), state=state, read_positions={T: {0: read}},
                      committed={T: {0: read}}, checkpoints=next(taken),
                      end_offsets={T: {0: 1000}})  # fmt: skip

    return take


def handle_for(run: RunRecord, take: Callable[[], Sample]) -> RunHandle:
    watch = RunWatch(f"v{run.version} {run.mode}", take, bounded=run.until is not None,
                     rule=CaughtUp(threshold=10, hold=2), interval=0.01)  # fmt: skip
    other = RunWatch("v1 live", closing([0]), interval=0.01)
    runs = [WatchedRun(other, "http://x/1", 99), WatchedRun(watch, "http://x/2", run.id)]
    watches = WatchSet("daily", runs)
    return RunHandle(run, "http://x", watch=watches.start())


def test_caught_up_is_a_property_and_an_event_of_the_handle() -> None:
    handle = handle_for(record(2, "replay"), closing([900, 500, 100, 5, 0, 0]))
    seen: list[int] = []
    handle.on_caught_up(lambda h: seen.append(h.run.id))
    assert handle.wait(timeout=5)
    assert handle.caught_up and not handle.finished and handle.run_state == "RUNNING"
    assert handle.watch is not None
    handle.watch.stop()
    assert seen == [2]


def test_a_bounded_replay_is_finished_not_caught_up() -> None:
    handle = handle_for(record(3, "replay", until="latest"), closing([500, 0], "FINISHED"))
    done: list[str] = []
    handle.on_finished(lambda h: done.append(h.run_state))
    assert handle.wait(timeout=5)
    assert handle.finished and not handle.caught_up
    assert done == ["FINISHED"]
    assert handle.watch is not None
    handle.watch.stop()


def test_a_handle_without_a_watch_watches_its_run_when_asked_to_wait() -> None:
    made: list[WatchSet] = []

    def watcher() -> WatchSet:
        watch = RunWatch("v5 live", closing([50, 0, 0]), rule=CaughtUp(threshold=10, hold=2),
                         interval=0.01)  # fmt: skip
        made.append(WatchSet("daily", [WatchedRun(watch, "http://x/5", 5)]).start())
        return made[-1]

    handle = RunHandle(record(5, "live"), "http://x", watcher=watcher)
    assert handle.run_state == "RUNNING" and not made  # reading the record starts nothing
    assert handle.wait(timeout=5) and handle.caught_up and len(made) == 1
    seen: list[int] = []
    handle.on_caught_up(lambda h: seen.append(h.run.id))
    assert seen == [5] and len(made) == 1  # the same watch, not a second
    handle.stop_watching()
    assert made[0].stopped and not made[0].runs[0].watch.running
    assert handle.wait(timeout=5) and len(made) == 2  # asked again: watches again


def test_a_handle_without_a_watch_says_how_to_get_one() -> None:
    handle = RunHandle(record(4, "live"), "http://x")
    assert not handle.caught_up and not handle.finished and handle.run_state == "RUNNING"
    with pytest.raises(RunNotFoundError, match="watch daily"):
        handle.wait(0.1)
