"""Waiting for what the log held when asked: a fixed target, committed in a checkpoint.

The samples are scripted (the watch loop does no I/O of its own); a `Log` plays the topic
and the run: records produced move the head, the run reads and commits on checkpoints.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from kappanb.monitor.history import CaughtUp
from kappanb.monitor.log_waiter import LogWaiter, covers
from kappanb.monitor.sample import Sample
from kappanb.monitor.watcher import RunWatch

T = "t"


class Log:
    """One partition: ``head`` grows by `produce`; each sample the run reads up to ``rate``
    records and, every ``every`` samples, completes a checkpoint committing what it read."""

    def __init__(self, head: int = 0, rate: int = 1_000, every: int = 3) -> None:
        self.head, self.rate, self.every = head, rate, every
        self.read = self.committed = self.checkpoints = self.samples = 0
        self.feed = 0  # records produced per sample (a continuous feed)
        self.state = "RUNNING"
        self.lock = threading.Lock()

    def produce(self, n: int) -> None:
        with self.lock:
            self.head += n

    def take(self) -> Sample:
        with self.lock:
            self.samples += 1
            self.head += self.feed
            self.read = min(self.head, self.read + self.rate)
            if self.samples % self.every == 0:
                self.checkpoints, self.committed = self.checkpoints + 1, self.read
            return Sample(at=time.time(), state=self.state, read_positions={T: {0: self.read}},
                          committed={T: {0: self.committed}}, checkpoints=self.checkpoints,
                          end_offsets={T: {0: self.head}})  # fmt: skip


def watching(log: Log) -> RunWatch:
    return RunWatch(
        "v1 live", log.take, rule=CaughtUp(threshold=10, hold=2), interval=0.005
    ).start()


def test_covers_needs_every_non_empty_partition_committed_to_its_head() -> None:
    assert covers({T: {0: 5, 1: 7}}, {T: {0: 5, 1: 7, 2: 0}})
    assert not covers({T: {0: 5}}, {T: {0: 5, 1: 1}})
    assert not covers({T: {0: 4, 1: 7}}, {T: {0: 5, 1: 7}})
    assert covers({}, {T: {0: 0}})


def test_a_wait_after_produce_waits_for_the_new_records_to_be_committed() -> None:
    log = Log(head=2_000)
    watch = watching(log)
    assert watch.wait_for_log(timeout=10)
    assert log.committed >= 2_000
    log.produce(50_000)  # caught up already: `caught_up` stays, the wait must not return
    assert watch.caught_up
    assert watch.wait_for_log(timeout=20)
    assert log.committed >= 52_000
    watch.stop()


def test_a_continuous_feed_does_not_starve_the_wait() -> None:
    log = Log(head=5_000, rate=1_000)
    log.feed = 900  # the head never stands still; the run stays close, never at it
    watch = watching(log)
    head_when_asked = log.head
    assert watch.wait_for_log(timeout=20)
    assert log.committed >= head_when_asked
    watch.stop()


def test_the_target_is_read_after_the_wait_began() -> None:
    waiter = LogWaiter()
    log = Log(head=100)
    watch = RunWatch("v1", log.take, rule=CaughtUp(threshold=0, hold=1))
    watch.history.add(log.take())  # taken before the caller's records were produced
    waiter(watch)
    assert waiter.target is None  # that first sample is not trusted
    log.produce(400)
    watch.history.add(log.take())
    waiter(watch)
    assert waiter.target == {T: {0: 500}}


def test_reached_only_after_a_checkpoint_completes_after_the_commit_is_seen() -> None:
    waiter = LogWaiter()
    waiter.target = {T: {0: 10}}
    covered = Sample(at=0, state="RUNNING", committed={T: {0: 10}}, checkpoints=4)
    waiter.step(covered, fired=False, held=False)  # not caught up yet: not even covered
    waiter.step(covered, fired=True, held=True)  # a held watermark: windows not fired
    waiter.step(covered, fired=True, held=False)
    assert not waiter.reached
    waiter.step(covered, fired=True, held=False)  # the same checkpoint count
    assert not waiter.reached
    waiter.step(Sample(at=1, state="RUNNING", committed={T: {0: 10}}, checkpoints=5),
                fired=True, held=False)  # fmt: skip
    assert waiter.reached and waiter.done.is_set()


def test_a_run_that_ends_ends_the_wait_unreached() -> None:
    log = Log(head=10_000_000, rate=10)
    watch = watching(log)
    while len(watch.history) < 3:
        time.sleep(0.01)
    log.state = "FAILED"
    assert not watch.wait_for_log(timeout=10)
    assert not watch.running


def test_a_wait_times_out_unreached() -> None:
    log = Log(head=10_000_000, rate=10)
    watch = watching(log)
    started = time.monotonic()
    assert not watch.wait_for_log(timeout=0.5)
    assert time.monotonic() - started < 5
    watch.stop()


def test_read_positions_without_commits_need_two_more_checkpoints() -> None:
    waiter = LogWaiter()
    waiter.target = {T: {0: 10}}
    read = Sample(at=0, state="RUNNING", read_positions={T: {0: 10}}, checkpoints=7)
    waiter.step(read, fired=True, held=False)
    for checkpoints in (7, 8):  # the 8th may have been triggered before those reads
        waiter.step(replace(read, checkpoints=checkpoints), fired=True, held=False)
        assert not waiter.reached
    waiter.step(replace(read, checkpoints=9), fired=True, held=False)
    assert waiter.reached


def test_a_source_that_commits_no_offsets_is_waited_for_by_its_read_positions() -> None:
    log = Log(head=3_000)
    take = log.take

    def uncommitted() -> Sample:
        return replace(take(), committed={})

    rule = CaughtUp(threshold=10, hold=2)
    watch = RunWatch("v1 live", uncommitted, rule=rule, interval=0.005).start()
    assert watch.wait_for_log(timeout=20)
    log.produce(4_000)
    assert watch.wait_for_log(timeout=20)
    assert log.read >= 7_000
    watch.stop()
