"""One shared watch per run: leases, what they share, and when the thread stops.

The watches sample scripted figures (the registry and the loop do no I/O here).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

from kappanb.monitor.sample import Sample
from kappanb.monitor.samplers import SharedSamplers
from kappanb.monitor.watcher import RunWatch

T = "t"


def steady(state: str = "RUNNING") -> Callable[[], Sample]:
    def take() -> Sample:
        return Sample(at=time.time(), state=state, read_positions={T: {0: 5}},
                      end_offsets={T: {0: 10}})  # fmt: skip

    return take


def builder(label: str, built: list[RunWatch], state: str = "RUNNING") -> Callable[[], RunWatch]:
    def build() -> RunWatch:
        watch = RunWatch(label, steady(state), interval=0.01)
        built.append(watch)
        return watch

    return build


def threads(label: str) -> int:
    return sum(t.name == f"kappanb-watch-{label}" for t in threading.enumerate())


def until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_leases_of_one_run_share_its_watch_and_its_history() -> None:
    samplers, built = SharedSamplers(), []
    first = samplers.acquire((1, "f1", 1000), builder("s1", built), 0.05)
    first.watch.start()
    assert until(lambda: len(first.watch.history) >= 3)
    second = samplers.acquire((1, "f1", 1000), builder("s1", built), 0.02)
    assert second.watch is first.watch and len(built) == 1
    assert len(second.watch.history) >= 3  # what was sampled before the second lease
    assert second.watch.start() is first.watch and threads("s1") == 1
    assert first.watch.interval == 0.02  # the shortest interval asked for
    second.release()
    assert first.watch.interval == 0.05 and first.watch.running
    first.release()
    assert not first.watch.running and threads("s1") == 0
    assert samplers.leases((1, "f1", 1000)) == 0
    first.release()  # a second release changes nothing
    assert samplers.leases((1, "f1", 1000)) == 0


def test_another_flink_job_or_threshold_is_another_watch() -> None:
    samplers, built = SharedSamplers(), []
    leases = [
        samplers.acquire(key, builder("s2", built), 1.0)
        for key in ((2, "before-resume", 1000), (2, "after-resume", 1000), (2, "after-resume", 5))
    ]
    assert len({id(lease.watch) for lease in leases}) == 3
    for lease in leases:
        lease.release()


def test_a_dropped_lease_gives_its_share_back() -> None:
    samplers, built = SharedSamplers(), []
    kept = samplers.acquire((3, "f", 1000), builder("s3", built), 0.01)
    dropped = samplers.acquire((3, "f", 1000), builder("s3", built), 0.01)
    watch = kept.watch.start()
    del dropped
    gc.collect()
    assert samplers.leases((3, "f", 1000)) == 1 and watch.running
    del kept
    gc.collect()
    assert until(lambda: not watch.running) and threads("s3") == 0
    assert samplers.leases((3, "f", 1000)) == 0


def test_a_watch_whose_run_ended_is_replaced_by_the_next_lease() -> None:
    samplers, built = SharedSamplers(), []
    ended = samplers.acquire((4, "f", 1000), builder("s4", built, "CANCELED"), 0.01)
    ended.watch.start()
    assert ended.watch.wait(5) and until(lambda: not ended.watch.running)
    fresh = samplers.acquire((4, "f", 1000), builder("s4", built, "RUNNING"), 0.01)
    assert fresh.watch is not ended.watch and len(built) == 2
    ended.release()  # the old lease gives back nothing of the new watch's
    assert samplers.leases((4, "f", 1000)) == 1
    fresh.release()


def test_a_new_lease_rearms_the_wait_but_not_what_the_views_say() -> None:
    # A replay's `%kappa replay` leases the live run's watch too: its own wait() must see
    # the live run caught up afresh, but the live run's row must not drop from "caught up"
    # to "at the head" meanwhile, while its own panel and the side panel say "caught up".
    from kappanb.monitor.history import CaughtUp
    from kappanb.monitor.watch_set import WatchedRun

    close = steady()  # 5 behind: within the threshold
    samplers, built = SharedSamplers(), []

    def build() -> RunWatch:
        watch = RunWatch("v1 live", close, rule=CaughtUp(hold=3), interval=0.01)
        built.append(watch)
        return watch

    first = samplers.acquire((1, "f1", 1000), build, 0.01)
    first.watch.start()
    assert first.watch.wait(10) and first.watch.caught_up
    first.watch.interval = 3600.0  # no sample now: the re-armed rule cannot fire again
    assert until(lambda: len(first.watch.history) >= 4)
    second = samplers.acquire((1, "f1", 1000), build, 3600.0)
    assert second.watch is first.watch and not second.watch.caught_up  # re-armed for wait()
    assert second.watch.judged_caught_up
    assert WatchedRun(second.watch, "").progress().where == "caught up"
    first.release()
    second.release()
