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
    assert updates == ["Flink REST API did not answer"]
