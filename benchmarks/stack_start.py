"""Cold and warm `up` time of the embedded stack, and the resident memory of its processes.

    .venv/bin/python benchmarks/stack_start.py [--rounds 3] [--out benchmarks/results]

cold: a new home (Kafka storage formatted, catalog created, Flink lib/ built);
warm: `down` then `up` on the same home (data kept). Jars come from the cache in
both cases (`kappanb setup` ran before). Memory is sampled 10 s after `up`
returned, summed over each service's process and its children.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import machine
from kappanb.settings import StackSettings
from kappanb.stack.embedded import EmbeddedStack


def rss_mib(stack: EmbeddedStack) -> dict[str, float]:
    result: dict[str, float] = {}
    for service in stack.status().services:
        if service.pid is None:
            continue
        proc = psutil.Process(service.pid)
        procs = [proc, *proc.children(recursive=True)]
        result[service.name] = round(sum(p.memory_info().rss for p in procs) / 2**20, 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    cold, warm, memory = [], [], []
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="kappanb-bench-") as home:
            env = {k: v for k, v in os.environ.items() if k != "KAPPANB_HOME"}
            stack = EmbeddedStack(StackSettings.from_env({**env, "KAPPANB_HOME": home}))
            try:
                began = time.perf_counter()
                stack.up()
                cold.append(time.perf_counter() - began)
                stack.down()
                began = time.perf_counter()
                stack.up()
                warm.append(time.perf_counter() - began)
                time.sleep(10)
                memory.append(rss_mib(stack))
            finally:
                stack.down()
        print(f"round {n + 1}: cold {cold[-1]:.1f} s, warm {warm[-1]:.1f} s, rss {memory[-1]}")
    rss = {s: statistics.median(m[s] for m in memory) for s in memory[0]}
    result: dict[str, object] = {
        "benchmark": "stack_start",
        "date": date.today().isoformat(),
        "machine": machine(),
        "rounds": args.rounds,
        "cold_up_s": {
            "median": round(statistics.median(cold), 2),
            "all": [round(x, 2) for x in cold],
        },
        "warm_up_s": {
            "median": round(statistics.median(warm), 2),
            "all": [round(x, 2) for x in warm],
        },
        "warm_over_cold": round(statistics.median(warm) / statistics.median(cold), 2),
        "rss_mib_median": rss,
        "rss_mib_total": round(sum(rss.values()), 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"stack_start-{result['date']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
