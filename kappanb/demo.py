"""`kappanb demo`: the metric-bug story of the first notebook, headless, with a report.

Payments flow in; a live job sums the captured payments per day, but with an inverted
flag it sums the uncaptured ones (v1); the fix (v2) replays the log from offset 0 beside
it and catches up; `diff` shows which days were wrong; v2 is promoted and v1 retired.
Runs again cleanly (the events are produced once; the runs restart). Knows nothing of
IPython.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kappanb.compare import Diff
from kappanb.display.plain import plain_text
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.kafka.topics import end_offsets
from kappanb.monitor.watch_set import WatchSet
from kappanb.workbench import Workbench

TOPIC = "demo.payments.v1"
TABLE = "demo_payments"
JOB = "demo_daily_captured"
_SQL = (
    "SELECT CAST(event_time AS DATE) AS `day`, COUNT(*) AS payments,\n"
    "       SUM(amount_cents) AS amount_cents\n"
    "FROM demo_payments\nWHERE {flag}\nGROUP BY CAST(event_time AS DATE)"
)
V1_SQL = _SQL.format(flag="NOT captured  -- the bug: an inverted flag")
V2_SQL = _SQL.format(flag="captured")


@plain_text
@dataclass
class DemoReport:
    """What the demo did and saw, for the end of the terminal output."""

    events: int = 0
    produced: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    diff: Diff | None = None
    serving: int | None = None
    flink_url: str = ""
    kept: bool = False

    def __str__(self) -> str:
        t = self.timings
        lines = [
            "",
            "kappanb demo: the story of a metric bug, replayed",
            f"  events in {TOPIC}: {self.events:,}"
            + (f" ({self.produced:,} produced now)" if self.produced else " (from before)"),
            f"  v1 (bug) live caught up in {t.get('v1', 0):.1f} s",
            f"  v2 (fix) replayed from offset 0 and caught up in {t.get('v2', 0):.1f} s",
            f"  diff v1 v2: {self.diff.summary() if self.diff else '-'}",
            f"  serving now: v{self.serving} (promoted; v1 retired, its table kept for rollback)",
            f"  Flink web UI of v{self.serving}'s job: {self.flink_url}",
            "",
        ]
        if self.kept:
            lines += [
                "The stack and tables are still there. Try:",
                f"  kappanb status {JOB}      kappanb history {JOB}",
                f"  kappanb diff {JOB} v1 v2  kappanb read {JOB}",
                f"  kappanb rollback {JOB}    kappanb down   (when done)",
            ]
        else:
            lines.append(
                "The stack is stopped again; `kappanb demo --keep` leaves it up to explore."
            )
        return "\n".join(lines)


def run_demo(
    wb: Workbench, *, events: int = 200_000, keep: bool = False,
    follow: Callable[[WatchSet], object] = lambda watch: watch.wait(600),
) -> DemoReport:  # fmt: skip
    """Tell the story on ``wb``'s stack; ``follow`` shows a watch until it is done."""
    say, report = wb.say, DemoReport(kept=keep)
    say("1/7 starting the stack (Kafka, Flink, Iceberg catalog on 127.0.0.1)")
    wb.up()
    say(f"2/7 declaring {TOPIC} and producing payments")
    wb.topic(TOPIC, PAYMENTS_SCHEMA, event_time="event_time", watermark="30 s", partitions=4,
             table=TABLE, key="payment_id")  # fmt: skip
    kafka = wb.endpoints().kafka
    already = sum(end_offsets(kafka, TOPIC).values())
    if already < events:
        report.produced = wb.produce(
            TOPIC, PaymentsGenerator(seed=7).events(events - already)
        ).delivered
    report.events = sum(end_offsets(kafka, TOPIC).values())

    say("3/7 v1: the live job, with an inverted flag")
    wb.job(JOB, V1_SQL, note="first cut")
    live = wb.run(JOB, 1, restart=True)
    if wb.serving(JOB) != 1:  # an earlier demo left v2 serving: start the story again
        wb.promote(JOB, 1, force=True, reason="demo: start the story again")
    report.timings["v1"] = _timed(lambda: follow(_watching(live.watch)))

    say("4/7 v2: the fix, replayed from offset 0 with a fresh consumer group")
    wb.job(JOB, V2_SQL, note="fix inverted flag")
    replay = wb.replay(JOB, 2, restart=True)
    report.timings["v2"] = _timed(lambda: follow(_watching(replay.watch)))

    say("5/7 diff v1 v2: which days were wrong")
    report.diff = wb.diff(JOB, 1, 2)
    say(f"    {report.diff.summary()}")
    say("6/7 promote v2: readers switch in one step")
    wb.promote(JOB, 2, reason="fix inverted flag")
    report.serving = wb.serving(JOB)
    report.flink_url = replay.web_url  # the served version's job (v1's is retired next)
    say("7/7 retire v1: stopped with a savepoint, its table kept for a rollback")
    wb.retire(JOB, 1)
    if not keep:
        wb.stop(JOB, 2, savepoint=True)
        wb.down()
    return report


def _watching(watch: WatchSet | None) -> WatchSet:
    if watch is None:
        raise RuntimeError("run/replay returned a handle without a watch")
    return watch


def _timed(step: Callable[[], object]) -> float:
    started = time.monotonic()
    step()
    return time.monotonic() - started
