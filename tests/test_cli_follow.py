"""`kappanb watch` / `replay --watch` end with an exit code that says how the runs ended."""

from __future__ import annotations

import time

import pytest

from kappanb.cli import _follow
from kappanb.monitor.history import CaughtUp
from kappanb.monitor.sample import Sample
from kappanb.monitor.watch_set import WatchedRun, WatchSet
from kappanb.monitor.watcher import RunWatch

T = "t"


def watched(*states: str, bounded: bool = True) -> WatchSet:
    steps = iter(states)

    def take() -> Sample:
        return Sample(at=time.time(), state=next(steps, states[-1]), read_positions={T: {0: 10}},
                      end_offsets={T: {0: 10}})  # fmt: skip

    watch = RunWatch("v2 replay", take, bounded=bounded, rule=CaughtUp(hold=1), interval=0.01)
    return WatchSet("daily", [WatchedRun(watch, "http://x")]).start()


@pytest.mark.parametrize(
    ("states", "bounded", "code", "word"),
    [
        (("RUNNING", "FINISHED"), True, 0, "finished"),
        (("RUNNING",), False, 0, "caught up"),
        (("RUNNING", "FAILED"), True, 1, "FAILED"),
    ],
)
def test_following_ends_with_how_the_runs_ended(
    states: tuple[str, ...], bounded: bool, code: int, word: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    result = _follow(watched(*states, bounded=bounded))
    assert result.exit_code == code
    assert word in str(result)
    assert not any(r.watch.running for r in result.watch.runs)
