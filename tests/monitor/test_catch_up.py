"""A replay over 4 million events catches up beside a live version, as the issue asks:
records behind the head fall to the threshold, the caught-up event fires once, and the
ETA given at the midpoint is within a factor of two of the time that actually remained.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.monitor.watcher import RunWatch
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench
from tests.magics.conftest import fresh_workbench

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPIC = "catchup.payments.v1"
EVENTS = 4_000_000  # at least 500,000 (the issue); fewer replay in ~2 s here, too quick to time.
# At 2 M, two CI runs in a row gave 0.50 and 0.46: the replay's first second (the Kafka
# reader's prefetch) moves its position faster than the rest, and the midpoint's 5 s rate
# window still held it; a longer replay leaves it a smaller share of that window.
THRESHOLD = 1000
SQL = (
    "SELECT CAST(event_time AS DATE) AS `day`, COUNT(DISTINCT merchant_id) AS merchants "
    "FROM catchup_payments WHERE {flag} GROUP BY CAST(event_time AS DATE)"
)


def test_a_long_replay_catches_up_beside_the_live_version_with_an_honest_eta(
    idle_stack: EmbeddedStack,
) -> None:
    # Beside its own live version only: jobs earlier tests left running share the one
    # TaskManager's CPU and heap. In one full CI run (with them) the replay's second half
    # ran 2.6x slower than its first, so the midpoint's ETA was 0.38 of the time left;
    # alone, 0.70-1.29 in three runs.
    # Its tables unmaintained too (`KAPPANB_TABLE_MAINTENANCE=off`): the sink's rewrites
    # run in the jobs' own TaskManager. With them on, in one CI run the replay's second half
    # ran 2.7x slower than its first (midpoint ETA 1.8 s, 4.8 s left: 0.38).
    workbench = Workbench(replace(fresh_workbench(idle_stack).settings, table_maintenance=None),
                          auto_up=False)  # fmt: skip
    workbench.topic(TOPIC, PAYMENTS_SCHEMA, partitions=4, table="catchup_payments",
                    event_time="event_time", watermark="30 s")  # fmt: skip
    workbench.produce(TOPIC, PaymentsGenerator(seed=61).events(EVENTS))
    workbench.job("catchup_daily", SQL.format(flag="NOT captured"))
    live = workbench.run("catchup_daily")
    stop_producing = threading.Event()

    def live_traffic() -> None:  # the head keeps moving while the replay runs
        stream = PaymentsGenerator(seed=62, live=True).events(100_000)
        while not stop_producing.is_set():
            batch = [next(stream) for _ in range(100)]
            workbench.produce(TOPIC, batch)
            stop_producing.wait(0.5)  # about 200 events a second

    producer = threading.Thread(target=live_traffic, daemon=True)
    try:
        assert live.wait(timeout=240), f"v1 did not catch up: {live.watch}"
        producer.start()
        workbench.job("catchup_daily", SQL.format(flag="captured"))
        replay = workbench.replay("catchup_daily", watch=False)
        watch = workbench.watch("catchup_daily", interval=0.5)  # v1 and v2, twice a second
        own = watch.of_run(replay.run.id)
        assert own is not None
        given: dict[float, float | None] = {}  # the ETA shown at each sample (by tick), as shown
        own.on_update(lambda w: given.update({w.history.latest.tick: w.history.eta_seconds()}))
        fired: list[str] = []
        own.on_caught_up(lambda w: fired.append(w.label))
        assert own.wait(timeout=300), str(watch)
        time.sleep(3)  # a few more samples: the event must not fire again
        watch.stop()
        stop_producing.set()
        check_history(own, fired, given)
    finally:
        stop_producing.set()
        workbench.stop("catchup_daily", 1)
        if any(r.active for r in workbench.runs("catchup_daily") if r.version == 2):
            workbench.stop("catchup_daily", 2)


def check_history(own: RunWatch, fired: list[str], given: dict[float, float | None]) -> None:
    samples = [s for s in own.history if s.read_positions]  # once Flink reports positions
    assert own.caught_up and fired == ["v2 replay"], fired
    behind = [s.behind_total for s in samples]
    assert max(behind) >= EVENTS * 0.5, behind[:5]  # sampled from early in the replay
    caught = next(i for i, b in enumerate(behind) if b <= THRESHOLD)
    assert caught > 0, "caught up before the first sample: nothing was measured"

    # The midpoint of the replay in time (from the first sample with a position to the
    # first at the threshold): progress comes in bursts on 2 busy cores, so "half the gap
    # left" can land right after a burst; half the time does not depend on where they fall.
    # Times on the samples' clock that does not step (`Sample.tick`), as the ETA's own.
    halfway = (samples[0].tick + samples[caught].tick) / 2
    middle = next(i for i, s in enumerate(samples) if s.tick >= halfway)
    eta = given.get(samples[middle].tick)
    actual = samples[caught].tick - samples[middle].tick
    assert eta is not None and actual > 0
    ratio = eta / actual
    per_partition = {p: b for (_t, p), b in sorted(samples[middle].behind().items())}
    print(
        f"\nmidpoint: {behind[middle]:,} behind (per partition {per_partition}), ETA "
        f"{eta:.1f} s, took {actual:.1f} s (ratio {ratio:.2f}); {len(samples)} samples"
    )
    trace = [(round(s.tick - samples[0].tick, 2), round(s.at - samples[0].at, 2), s.behind_total,
              s.checkpoints) for s in samples]  # fmt: skip
    print("trace (tick, wall, behind, checkpoints):", trace)  # a failure's whole story
    assert 0.5 <= ratio <= 2.0, (eta, actual, trace)
