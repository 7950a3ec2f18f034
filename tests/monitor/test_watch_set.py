"""What a set of watched runs says in its status table and progress line (no I/O)."""

from __future__ import annotations

from kappanb.monitor.sample import Sample
from kappanb.monitor.watch_set import WatchedRun, WatchSet
from kappanb.monitor.watcher import RunWatch

T = "t"


def test_status_and_progress_name_the_figures_of_each_run() -> None:
    def never() -> Sample:
        raise AssertionError("not started: the test adds samples itself")

    replay = RunWatch("v2 replay", never)
    for at, read in ((0.0, 0), (1.0, 4_000), (2.0, 8_000)):
        replay.history.add(Sample(
            at=at, state="RUNNING", read_positions={T: {0: read}}, end_offsets={T: {0: 20_000}},
            checkpoints=3, last_checkpoint_ms=1_250, watermark_ms=1_000_000,
            head_event_ms=1_000_000 + 90 * 60_000,
        ))  # fmt: skip
    watches = WatchSet("daily", [WatchedRun(replay, "http://flink/#/job/1", 7)])
    row = dict(zip(WatchSet._HEADERS, watches.status_rows()[0], strict=True))
    assert row["behind"] == 12_000 and row["event-time lag"] == "1.5 h"
    assert row["rate"] == "4,000/s" and row["ETA"] == "3 s"  # 12,000 at 4,000/s
    assert row["checkpoints"] == "3 (last 1 s)"
    assert row["malformed"] == "-"  # no dead-letter topic: the run fails fast
    assert watches.progress_line() == "daily  v2 replay: 12,000 behind, 4,000/s, ETA 3 s"
    assert "http://flink/#/job/1" in watches._repr_html_()
    assert watches.of_run(7) is replay and watches.of_run(8) is None


def test_malformed_events_show_in_the_table_and_the_progress_line() -> None:
    def never() -> Sample:
        raise AssertionError("not started")

    live = RunWatch("v1 live", never)
    live.history.add(Sample(at=0.0, state="RUNNING", end_offsets={T: {0: 10}},
                            read_positions={T: {0: 10}}, malformed=1_234))  # fmt: skip
    watches = WatchSet("daily", [WatchedRun(live, "http://flink/#/job/1", 3)])
    row = dict(zip(WatchSet._HEADERS, watches.status_rows()[0], strict=True))
    assert row["malformed"] == "1,234"
    assert "1,234 malformed" in watches.progress_line()
    assert ">1,234</td>" in watches._repr_html_()


def test_a_shared_replay_keeps_the_live_run_it_compares_with_sampled() -> None:
    import threading
    import time

    from kappanb.monitor.samplers import SharedSamplers
    from kappanb.monitor.watch_set import _leasing

    def running() -> Sample:
        return Sample(at=time.time(), state="RUNNING", end_offsets={T: {0: 10}},
                      read_positions={T: {0: 5}}, watermark_ms=42)  # fmt: skip

    samplers = SharedSamplers()
    live = samplers.acquire((1, "f1", 1000), lambda: RunWatch("cmp-live", running), 0.01)
    compared: list[RunWatch | None] = []

    def make(against: RunWatch | None) -> RunWatch:
        compared.append(against)
        return RunWatch("cmp-replay", running, interval=0.01)

    replay = samplers.acquire((2, "f2", 1000), lambda: _leasing(make, samplers, live, 0.01), 0.01)
    assert compared == [live.watch] and samplers.leases((1, "f1", 1000)) == 2
    live.watch.start()
    replay.watch.start()
    live.release()  # the set that had both lets go of the live run first
    assert live.watch.running  # the replay still compares with it
    replay.release()  # the replay's thread ends, and gives the live run back as it does
    assert not replay.watch.running and samplers.leases((1, "f1", 1000)) == 0
    assert not any(t.name.startswith("kappanb-watch-cmp-") for t in threading.enumerate())
