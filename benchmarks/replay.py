"""Replay speed against the raw log: kappanb's replay beside the machine's limits, in one run.

    .venv/bin/python benchmarks/replay.py            # 5 million events, about 14 minutes
    .venv/bin/python benchmarks/replay.py --small    # 100,000 events, parallelism 1, no warm-up

On the embedded stack (a fresh one in a temporary home unless --home names a running
one), it fills a 4-partition topic with payment events and then reads all of it, one
stage after another: Kafka's consumer performance tool (raw, JVM), a confluent-kafka
consumer (raw, Python), and per workload the Python oracle, the workload hand-written
for Flink's SQL client, and `kappanb replay` of the same query (by default, and over the
topic declared fail-fast), at each parallelism.
Each stage gets its wall time and the CPU seconds of the stack's processes and its own
client. kappanb's output must equal the oracle's (and so must the hand-written job's);
otherwise the run fails. Results: a table here, JSON in benchmarks/results/.
See benchmarks/README.md for what the figures mean and what bounds them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import machine
from benchmarks.replaybench import stages
from benchmarks.replaybench.measure import Figure
from benchmarks.replaybench.profile import profile_replay
from benchmarks.replaybench.report import best, median_ratios, ratio_lines, ratios, table
from benchmarks.replaybench.workloads import COLUMNS, WORKLOADS
from kappanb.settings import StackSettings
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench

SMALL = 100_000


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000, help="events in the topic")
    parser.add_argument("--small", action="store_true", help=f"{SMALL:,} events (CI)")
    parser.add_argument(
        "--parallelism",
        type=int,
        nargs="+",
        default=None,
        help="the Flink stages' parallelisms (default 1 2; 1 with --small, to stay under 3 min)",
    )
    parser.add_argument(
        "--workloads", nargs="+", choices=sorted(WORKLOADS), default=sorted(WORKLOADS)
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="measure each Flink stage N times, keep the fastest (default 2; 1 with --small)",
    )
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="profile one more replay per workload (JFR, per-thread CPU)",
    )
    parser.add_argument("--jfr-dir", type=Path, help="keep the profiles' JFR recordings here")
    parser.add_argument("--home", type=Path, help="a kappanb home whose stack is running")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.small:
        args.events = SMALL
    if args.repeat is None:
        args.repeat = 1 if args.small else 2
    if args.parallelism is None:
        args.parallelism = [1] if args.small else [1, 2]
    if args.events < 1 or args.repeat < 1 or min(args.parallelism) < 1:
        parser.error("--events, --repeat and --parallelism must be at least 1")
    return args


def open_stack(args: argparse.Namespace, cleanup: ExitStack) -> EmbeddedStack:
    if args.home is not None:
        stack = EmbeddedStack(
            StackSettings.from_env({**os.environ, "KAPPANB_HOME": str(args.home)})
        )
        if not stack.status().healthy:
            raise SystemExit(f"the stack of {args.home} is not running: `kappanb up` it first")
        return stack
    home = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="kappanb-replay-bench-"))
    stack = EmbeddedStack(StackSettings.from_env({**os.environ, "KAPPANB_HOME": home}))
    print(f"starting a stack in {home} ...", flush=True)
    stack.up()
    cleanup.callback(stack.down)
    return stack


def declare(wb: Workbench, topic: str, source: str, on_malformed: str = "dlq") -> None:
    """The benchmark's topic, by default with kappanb's default policy for malformed events
    (a dead-letter topic); "fail" drops that branch, so the job does the hand-written work."""
    wb.topic(topic, COLUMNS, partitions=4, table=source, event_time="event_time",
             on_malformed=on_malformed)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    began = time.perf_counter()
    with ExitStack() as cleanup:
        stack = open_stack(args, cleanup)
        os.environ["KAPPANB_HOME"] = str(stack.settings.home)  # the clients' home, too
        stamp = time.strftime("%Y%m%d%H%M%S")
        scratch = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="replay-bench-")))
        wb = Workbench(stack.settings, auto_up=False)
        source = f"bench_{stamp}"
        topic = f"bench.payments.{stamp}"
        declare(wb, topic, source)
        bench = stages.Bench(
            stack, wb, topic, source, args.events, scratch, stack.settings.checkpoint_interval
        )
        figures: list[Figure] = []

        def note(f: Figure) -> Figure:
            figures.append(f)
            print(table([f]).splitlines()[-1], flush=True)
            return f

        print(f"{args.events:,} events into {topic} (4 partitions)", flush=True)
        note(stages.produce(bench, args.seed))
        raw = {"raw JVM": note(stages.raw_jvm(bench)), "raw Python": note(stages.raw_python(bench))}
        for f in raw.values():
            if f.records != args.events:
                raise SystemExit(f"{f.stage} read {f.records:,} events, not {args.events:,}")

        if not args.small:  # --small checks that everything works; its figures are not kept
            first = WORKLOADS[args.workloads[0]]
            print("warming the TaskManager's JIT up with one replay (not measured) ...", flush=True)
            wb.job(f"warm_up_{stamp}", first.query.format(source=source),
                   key=list(first.key) or None, note="replay benchmark warm-up")  # fmt: skip
            stages.kappanb_replay(bench, first, f"warm_up_{stamp}", 1)
        results: dict[str, dict[str, object]] = {}
        all_equal = True
        oracles = {}
        for name in args.workloads:
            workload = WORKLOADS[name]
            job = f"{name}_{stamp}"
            wb.job(
                job,
                workload.query.format(source=source),
                key=list(workload.key) or None,
                note="replay benchmark",
            )
            oracle_figure, expected = stages.oracle(bench, workload)
            oracles[name] = expected
            note(oracle_figure)
            for p in args.parallelism:
                hand, mine, strict = [], [], []
                for r in range(args.repeat):
                    order = ("hand", "kappanb", "strict")
                    for who in order if r % 2 == 0 else order[::-1]:
                        if who == "hand":
                            f, out = stages.hand_written_flink(bench, workload, p)
                            hand.append(note(f))
                        elif who == "kappanb":
                            f, out = stages.kappanb_replay(bench, workload, job, p)
                            mine.append(note(f))
                        else:  # the topic fails fast: no dead-letter branch, as hand-written
                            declare(wb, topic, source, on_malformed="fail")
                            try:
                                f, out = stages.kappanb_replay(bench, workload, job, p, "fail-fast")
                            finally:
                                declare(wb, topic, source)
                            strict.append(note(f))
                        equal = out.equals(expected)
                        f.extra["output_rows"], f.extra["equals_oracle"] = out.height, equal
                        if not equal:
                            all_equal = False
                            print(
                                f"!! {f.stage}: output differs from the oracle's "
                                f"({out.height} rows against {expected.height}; Flink job "
                                f"{f.extra.get('flink_job_id')}, {f.extra.get('checkpoints')} "
                                f"checkpoint(s), {f.extra.get('restarts')} restart(s))",
                                flush=True,
                            )
                k, h, k_strict = best(mine), best(hand), best(strict)
                kinds = (("kappanb", mine), ("fail-fast", strict), ("hand", hand))
                results[f"{name} p{p}"] = {
                    "workload": name,
                    "kind": workload.kind,
                    "parallelism": p,
                    "kappanb": k.as_json(),
                    "hand_written_flink": h.as_json(),
                    "python_oracle": oracle_figure.as_json(),
                    "ratios": ratios(
                        k,
                        {
                            "raw JVM": raw["raw JVM"],
                            "hand-written Flink": h,
                            "raw Python": raw["raw Python"],
                            "Python oracle": oracle_figure,
                        },
                    ),
                    "kappanb_fail_fast": k_strict.as_json(),
                    "fail_fast_ratios": ratios(
                        k_strict, {"hand-written Flink": h, "kappanb (dead letters)": k}
                    ),
                    "median_ratios": {
                        "kappanb vs hand-written Flink": median_ratios(mine, hand),
                        "fail-fast vs hand-written Flink": median_ratios(strict, hand),
                        "fail-fast vs kappanb (dead letters)": median_ratios(strict, mine),
                    },
                    "all_kappanb_s": [round(f.wall_s, 2) for f in mine],
                    "all_kappanb_fail_fast_s": [round(f.wall_s, 2) for f in strict],
                    "all_hand_written_s": [round(f.wall_s, 2) for f in hand],
                    **{
                        f"all_{key}": {kind: [f.extra[key] for f in fs] for kind, fs in kinds}
                        for key in ("flink_job_s", "checkpoints")
                    },
                }
        profiles = {}
        if args.profile:  # both kinds, so the dead-letter branch's cost shows per category
            # --small checks that profiling works, on one workload, to stay under 3 minutes
            for name in args.workloads[:1] if args.small else args.workloads:
                for kind in ("default", "fail-fast"):
                    print(f"profiling a {kind} kappanb replay of {name} (JFR) ...", flush=True)
                    if kind == "fail-fast":
                        declare(wb, topic, source, on_malformed="fail")
                    try:
                        profile = profile_replay(
                            bench,
                            WORKLOADS[name],
                            f"{name}_{stamp}",
                            args.jfr_dir or scratch,
                            oracles[name],
                            kind,
                        )
                    finally:
                        declare(wb, topic, source)
                    profiles[name if kind == "default" else f"{name} {kind}"] = profile
                    if not profile["replay"]["equals_oracle"]:  # type: ignore[index]
                        all_equal = False
                        print(f"!! the profiled {kind} replay of {name} differs", flush=True)
        print()
        print(table(figures))
        print()
        print(ratio_lines({c: r["ratios"] for c, r in results.items()}))  # type: ignore[misc]
        fail_fast = {c: r["fail_fast_ratios"] for c, r in results.items()}
        print("kappanb with a fail-fast topic (no dead-letter branch), against:")
        print(ratio_lines(fail_fast).split("\n", 1)[1])  # type: ignore[arg-type]
        print(f"the same, of the medians over {args.repeat} run(s) of each Flink stage:")
        for config, found in results.items():
            medians: dict[str, dict[str, float | None]] = found["median_ratios"]  # type: ignore[assignment]
            parts = [
                f"{k} {v['events_per_s']}x / CPU {v['cpu_s_per_million']}x"
                for k, v in medians.items()
            ]
            print(f"  {config}: " + "; ".join(parts))
        document = {
            "benchmark": "replay",
            "date": date.today().isoformat(),
            "machine": machine(),
            "events": args.events,
            "partitions": 4,
            "checkpoint_interval": stack.settings.checkpoint_interval,
            "repeat": args.repeat,
            "stages": [f.as_json() for f in figures],
            "configurations": results,
            "profiles": profiles,
            "outputs_equal_oracle": all_equal,
            "total_s": round(time.perf_counter() - began, 1),
        }
        args.out.mkdir(parents=True, exist_ok=True)
        suffix = "-small" if args.small else ""
        out = args.out / f"replay-{document['date']}{suffix}.json"
        out.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwrote {out} ({document['total_s']} s in all)")
    return 0 if all_equal else 1


if __name__ == "__main__":
    sys.exit(main())
