"""A bounded replay stuck at its end (FLINK-31006) is drained once; one that finishes is not."""

from __future__ import annotations

import threading
from dataclasses import replace
from types import SimpleNamespace

from kappanb.monitor.bounded_end import STUCK_CHECKPOINTS, EndOfInput, reached
from kappanb.monitor.sample import Sample
from kappanb.registry.kinds import FlinkJobState

T = "card_payments_v1"
END = {T: {0: 100, 1: 50, 2: 0}}


def at(committed: dict[int, int], checkpoints: int, state: FlinkJobState = "RUNNING") -> Sample:
    return Sample(at=0, state=state, committed={T: committed}, checkpoints=checkpoints)


def test_reached_needs_every_partition_committed_at_its_end() -> None:
    assert reached(at({0: 100, 1: 50}, 0), END)  # partition 2 had nothing to read
    assert not reached(at({0: 100, 1: 49}, 0), END)
    assert not reached(at({0: 100}, 0), END)  # partition 1 never committed


def test_read_positions_at_the_end_are_not_enough() -> None:
    """Flink's metrics may say the end was read before a checkpoint holds it (or be stale):
    only the group's commit shows that the window state has every record."""
    read = Sample(at=0, state="RUNNING", read_positions={T: {0: 100, 1: 50}},
                  committed={T: {0: 80, 1: 50}}, checkpoints=9)  # fmt: skip
    assert not reached(read, END)
    end = EndOfInput(END, lambda: None, samples=1)
    assert not any(end.observe(replace(read, checkpoints=c)) for c in range(9, 20))


def test_a_replay_at_its_end_for_two_checkpoints_is_drained_once() -> None:
    drained = threading.Event()
    end = EndOfInput(END, drained.set, samples=3)
    assert not end.observe(at({0: 90, 1: 50}, 1))
    decisions = [end.observe(at({0: 100, 1: 50}, c)) for c in (1, 1, 2, 2)]
    assert decisions == [False] * 4  # at the end, but only one checkpoint since
    assert end.observe(at({0: 100, 1: 50}, 1 + STUCK_CHECKPOINTS))
    assert end.drained
    assert not end.observe(at({0: 100, 1: 50}, 9))  # once only


def test_a_replay_that_finishes_or_falls_behind_is_not_drained() -> None:
    end = EndOfInput(END, lambda: None, samples=2)
    for c in range(5):
        assert not end.observe(at({0: 100, 1: 50}, c, state="FINISHED"))
    assert not end.observe(at({0: 100, 1: 50}, 5))
    assert not end.observe(at({0: 100, 1: 40}, 9))  # back to reading: the count restarts
    assert not end.observe(at({0: 100, 1: 50}, 9))
    assert not end.observe(at({0: 100, 1: 50}, 10))
    assert end.observe(at({0: 100, 1: 50}, 11))


def test_no_recorded_end_drains_nothing() -> None:
    end = EndOfInput({}, lambda: None, samples=1)
    assert not any(end.observe(at({0: 1}, c)) for c in range(10))


def test_the_listener_drains_on_a_thread_and_keeps_the_error() -> None:
    class Watch:
        class history:
            latest: Sample | None = None

    def fail() -> None:
        raise RuntimeError("job already finished")

    end = EndOfInput(END, fail, samples=1)
    for c in range(4):
        end(SimpleNamespace(history=SimpleNamespace(latest=at({0: 100, 1: 50}, c))))
    deadline = threading.Event()
    for _ in range(100):
        if end.error:
            break
        deadline.wait(0.05)
    assert end.drained and end.error == "job already finished"
