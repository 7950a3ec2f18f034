"""The watch loop: samples in the background, fires caught-up once, stops when asked or done.

The sampler is a function the test gives (the loop itself does no I/O).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kappanb.monitor.history import CaughtUp
from kappanb.monitor.sample import Sample
from kappanb.monitor.watcher import RunWatch

T = "t"


def scripted(states_and_behind: list[tuple[str, int]]) -> Callable[[], Sample]:
    steps = iter(states_and_behind)

    def take() -> Sample:
        state, behind = next(steps, states_and_behind[-1])
        return Sample(at=time.time(), state=state, read_positions={T: {0: 100 - behind}},
                      end_offsets={T: {0: 100}})  # fmt: skip

    return take


def test_caught_up_fires_once_and_sampling_goes_on_until_stopped() -> None:
    take = scripted([("RUNNING", 90), ("RUNNING", 40), ("RUNNING", 0)])
    watch = RunWatch("v2", take, rule=CaughtUp(threshold=5, hold=2), interval=0.01)
    fired: list[str] = []
    watch.on_caught_up(lambda w: fired.append(w.label))
    watch.start()
    deadline = time.monotonic() + 5
    while len(watch.history) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert watch.caught_up and fired == ["v2"]
    assert watch.running
    watch.stop()
    assert not watch.running
    assert not any(t.name == "kappanb-watch-v2" for t in threading.enumerate())


def test_the_loop_ends_by_itself_when_the_run_ends() -> None:
    take = scripted([("RUNNING", 50), ("RUNNING", 10), ("FINISHED", 0)])
    watch = RunWatch("v3", take, bounded=True, interval=0.01).start()
    deadline = time.monotonic() + 5
    while watch.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not watch.running and watch.finished
    assert not watch.caught_up  # a bounded replay finishes, it does not catch up
    assert [s.behind_total for s in watch.history] == [50, 10, 0]


def test_a_failing_sampler_or_listener_is_contained() -> None:
    def broken() -> Sample:
        raise RuntimeError("Flink REST API did not answer")

    watch = RunWatch("v4", broken, interval=0.01)
    updates: list[str | None] = []
    watch.on_update(lambda w: updates.append(w.error))
    watch.on_update(lambda w: [][0])  # a listener that raises
    watch.start()
    deadline = time.monotonic() + 5
    while watch.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not watch.running
    assert updates == ["Flink REST API did not answer"] * watch.max_failures  # then gives up


def test_a_passing_failure_does_not_end_the_watch() -> None:
    outcomes = iter([ConnectionError("NOT_COORDINATOR"), None, None, None])
    take_ok = scripted([("RUNNING", 50), ("RUNNING", 40)])

    def flaky() -> Sample:
        failure = next(outcomes, None)
        if failure is not None:
            raise failure
        return take_ok()

    watch = RunWatch("v1 live", flaky, interval=0.01).start()
    deadline = time.monotonic() + 5
    while len(watch.history) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    watch.stop()
    assert len(watch.history) >= 2 and watch.error is None  # recovered, error cleared


def test_a_bounded_replay_finishes_instead_and_late_listeners_are_called_once() -> None:
    take = scripted([("RUNNING", 60), ("RUNNING", 0), ("FINISHED", 0)])
    watch = RunWatch("v2 replay", take, bounded=True, rule=CaughtUp(threshold=5, hold=1),
                     interval=0.01)  # fmt: skip
    finished: list[str] = []
    caught_up: list[str] = []
    watch.on_finished(lambda w: finished.append("early"))
    watch.on_caught_up(lambda w: caught_up.append("never"))
    watch.start()
    assert watch.wait(timeout=5)
    assert watch.finished and not watch.caught_up  # bounded: "finished", not "caught up"
    watch.on_finished(lambda w: finished.append("late"))  # after the fact: called at once
    watch.stop()
    assert finished == ["early", "late"] and caught_up == []


def test_wait_returns_when_sampling_stops_without_catching_up() -> None:
    def broken() -> Sample:
        raise ConnectionError("Flink REST unreachable")

    watch = RunWatch("v1 live", broken, interval=0.01).start()
    assert watch.wait(timeout=5)  # settled: not sampling any more
    assert not watch.caught_up and watch.error == "Flink REST unreachable"


def test_stop_all_stops_every_sampling_thread() -> None:
    from kappanb.monitor.watcher import stop_all

    take = scripted([("RUNNING", 50)])
    watches = [RunWatch(f"v{i}", take, interval=0.01).start() for i in (1, 2)]
    assert all(w.running for w in watches)
    assert stop_all() >= 2
    assert not any(w.running for w in watches)


class Subscriber:
    def __init__(self) -> None:
        self.seen = 0

    def update(self, _watch: RunWatch) -> None:
        self.seen += 1


def test_a_weak_listener_goes_with_its_object_and_a_removed_one_is_not_called() -> None:
    import gc

    take = scripted([("RUNNING", 50)])
    watch = RunWatch("v5", take, interval=0.01)
    kept, dropped, removed = Subscriber(), Subscriber(), Subscriber()
    watch.on_update(kept.update, weak=True)
    watch.on_update(dropped.update, weak=True)
    watch.on_update(removed.update)
    watch.remove_update(removed.update)
    del dropped
    gc.collect()
    watch.start()
    deadline = time.monotonic() + 5
    while kept.seen < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    watch.stop()
    assert kept.seen >= 3 and removed.seen == 0
    assert watch._updates.alive() == [kept.update]  # the dropped one's entry is gone


def test_once_only_listeners_are_let_go_once_called_or_once_sampling_ends() -> None:
    take = scripted([("RUNNING", 0)])
    watch = RunWatch("v6", take, rule=CaughtUp(threshold=5, hold=1), interval=0.01)
    fired: list[str] = []
    ended: list[str] = []
    watch.on_caught_up(lambda w: fired.append("caught up"))
    watch.on_finished(lambda w: fired.append("never: unbounded"))
    watch.after_sampling(lambda: ended.append("released"))
    watch.start()
    assert watch.wait(5) and fired == ["caught up"]
    assert watch._caught_up == []  # called once, then not held
    watch.stop()
    assert watch._finished == [] and ended == ["released"]
    watch.on_finished(lambda w: fired.append("never"))  # sampling ended: nothing to wait for
    assert watch._finished == []


def test_a_watch_stopped_before_it_started_never_starts() -> None:
    watch = RunWatch("v7", scripted([("RUNNING", 0)]), interval=0.01)
    ended: list[str] = []
    watch.after_sampling(lambda: ended.append("released"))
    watch.stop()
    assert watch.start() is watch and not watch.running and watch.ended
    assert ended == ["released"] and watch.wait(0)
