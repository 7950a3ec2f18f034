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
    assert row["behind"] == "12,000" and row["event-time lag"] == "1.5 h"
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


def _never() -> Sample:
    raise AssertionError("not started: the test adds samples itself")


def test_the_table_names_its_progress_column_and_shows_errors_only_when_there_are() -> None:
    live = RunWatch("v1 live", _never)
    live.history.add(Sample(at=0.0, state="RUNNING", end_offsets={T: {0: 200_000}},
                            read_positions={T: {0: 0}}))  # fmt: skip
    watches = WatchSet("daily", [WatchedRun(live, "http://flink/#/job/1", 3)])
    assert watches.headers()[-1] == "progress" and "" not in watches.headers()
    assert "error" not in watches.headers()
    assert len(watches.status_rows()[0]) == len(watches.headers())
    assert "<th" in watches._repr_html_() and ">progress</th>" in watches._repr_html_()
    assert ">200,000</td>" in watches._repr_html_()  # thousands separated
    live.error = "Flink did not answer"
    assert watches.headers()[-1] == "error"
    row = dict(zip(watches.headers(), watches.status_rows()[0], strict=True))
    assert row["error"] == "Flink did not answer" and row["progress"] == "catching up"


def test_the_table_rate_is_the_last_point_of_the_rate_chart() -> None:
    replay = RunWatch("v2 replay", _never)
    # Flink reported no position, only the group's commits: "behind" falls, so must the rate.
    for at, committed in ((0.0, 0), (1.0, 50_000), (2.0, 150_000), (3.0, 200_000)):
        replay.history.add(Sample(at=at, state="RUNNING", committed={T: {0: committed}},
                                  end_offsets={T: {0: 200_000}}))  # fmt: skip
    watches = WatchSet("daily", [WatchedRun(replay, "http://x", 2)])
    chart_rates = watches.frame()["records_in_per_s"].to_list()
    assert chart_rates[-1] > 0 and chart_rates[1] > 0
    row = dict(zip(watches.headers(), watches.status_rows()[0], strict=True))
    assert row["rate"] == f"{chart_rates[-1]:,.0f}/s"
    assert row["behind"] == "0"


def test_a_promoted_replay_reads_as_the_live_run() -> None:
    from kappanb.monitor.watch_set import run_label
    from kappanb.registry.records import RunRecord

    def run(mode: str, until: str | None) -> RunRecord:
        return RunRecord(id=2, job="daily", version=2, mode=mode, table="t", group_id="g",  # type: ignore[arg-type]
                         start="earliest", until=until, flink_job_id="f", state="RUNNING",
                         started_at="")  # fmt: skip

    assert run_label(run("replay", None), serving=1) == "v2 replay"
    assert run_label(run("replay", None), serving=2) == "v2 live"
    assert run_label(run("replay", "latest"), serving=2) == "v2 replay"  # bounded: ends
    replay = RunWatch("v2 replay", _never)
    watches = WatchSet("daily", [WatchedRun(replay, "http://x", 2, label="v2 live")])
    replay.history.add(Sample(at=0.0, state="RUNNING"))
    assert watches.frame()["version"].to_list() == ["v2 live"]
    assert "v2 live" in str(watches) and "v2 replay" not in str(watches)


def test_late_records_dropped_get_a_column_and_a_word_in_the_progress_line() -> None:
    def never() -> Sample:
        raise AssertionError("not started")

    live = RunWatch("v1 live", never)
    live.history.add(Sample(at=0.0, state="RUNNING", end_offsets={T: {0: 10}},
                            read_positions={T: {0: 10}}, late_dropped=0))  # fmt: skip
    watches = WatchSet("hourly", [WatchedRun(live, "http://flink/#/job/1", 3)])
    assert "late" not in watches.headers()  # none dropped: no column
    live.history.add(Sample(at=1.0, state="RUNNING", end_offsets={T: {0: 10}},
                            read_positions={T: {0: 10}}, late_dropped=1_250))  # fmt: skip
    row = dict(zip(watches.headers(), watches.status_rows()[0], strict=True))
    assert row["late"] == "1,250 dropped"
    assert "1,250 late dropped" in watches.progress_line()
