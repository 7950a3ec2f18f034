"""The replay benchmark on the local cluster beside the embedded stack, in one run, as ratios.

    .venv/bin/python benchmarks/replay_cluster.py     # 500,000 events, about 10 minutes

The same stages run on a fresh embedded stack, which is then stopped, and on a fresh local
cluster (3 Kafka brokers, a JobManager and 2 TaskManagers, SeaweedFS's Iceberg REST
catalog over S3), which is then stopped: never both at once, so both get the machine's
cores. On each: the same seeded events into a 4-partition topic, the raw Python read, the
Python oracle per workload, one unmeasured replay (the TaskManagers' JIT), then `kappanb
replay` per workload at each parallelism. Every output must equal its stack's oracle, and
the two oracles each other; at parallelism 2 on the cluster the job's subtasks must have
run on both TaskManagers (Flink's REST API). Ratios: cluster / embedded, per stage.
See benchmarks/README.md, "replay_cluster.py".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import machine
from benchmarks.replay import declare
from benchmarks.replaybench import stages
from benchmarks.replaybench.measure import Figure
from benchmarks.replaybench.report import best, table
from benchmarks.replaybench.versus import compare, taskmanagers, versus_lines
from benchmarks.replaybench.workloads import WORKLOADS
from kappanb.cluster import flink_nodes, kafka_nodes
from kappanb.cluster.layout import PROFILE_NAME
from kappanb.cluster.local import TASK_MANAGERS, LocalCluster
from kappanb.settings import StackSettings
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench

Placed = Callable[[str], set[str]]
Phase = tuple[float, str, list[Figure], dict[str, pl.DataFrame], bool]
"""A stack's start seconds, checkpoint interval, figures, oracles, and all outputs exact."""


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000, help="events in the topic")
    parser.add_argument("--parallelism", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--workloads", nargs="+", choices=sorted(WORKLOADS), default=sorted(WORKLOADS)
    )
    parser.add_argument("--repeat", type=int, default=1, help="replays per stage; the fastest")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.events < 1 or args.repeat < 1 or min(args.parallelism) < 1:
        parser.error("--events, --repeat and --parallelism must be at least 1")
    return args


def run_stages(
    bench: stages.Bench, args: argparse.Namespace, stamp: str, placed: Placed | None
) -> tuple[list[Figure], dict[str, pl.DataFrame], bool]:
    """Produce, read raw, the oracles, then each workload's replays; figures and oracles."""
    wb, figures, all_equal = bench.workbench, [], True

    def note(f: Figure) -> Figure:
        figures.append(f)
        print(table([f]).splitlines()[-1], flush=True)
        return f

    declare(wb, bench.topic, bench.source)
    note(stages.produce(bench, args.seed))
    raw = note(stages.raw_python(bench))
    if raw.records != args.events:
        raise SystemExit(f"{raw.stage} read {raw.records:,} events, not {args.events:,}")
    oracles = {}
    for name in args.workloads:
        oracle_figure, oracles[name] = stages.oracle(bench, WORKLOADS[name])
        note(oracle_figure)
    first, widest = WORKLOADS[args.workloads[0]], max(args.parallelism)
    print(f"warming the TaskManagers' JIT up (a replay at p{widest}, not measured) ...")
    wb.job(f"warm_up_{stamp}", first.query.format(source=bench.source),
           key=list(first.key) or None, note="replay benchmark warm-up")  # fmt: skip
    stages.kappanb_replay(bench, first, f"warm_up_{stamp}", widest)
    for name in args.workloads:
        workload, job = WORKLOADS[name], f"{name}_{stamp}"
        wb.job(job, workload.query.format(source=bench.source),
               key=list(workload.key) or None, note="replay benchmark")  # fmt: skip
        for p in args.parallelism:
            runs = []
            for _ in range(args.repeat):
                f, out = stages.kappanb_replay(bench, workload, job, p)
                equal = out.equals(oracles[name])
                f.extra["output_rows"], f.extra["equals_oracle"] = out.height, equal
                if placed is not None:
                    where = placed(str(f.extra["flink_job_id"]))
                    f.extra["taskmanagers"] = sorted(where)
                    if p >= len(TASK_MANAGERS) and len(where) < len(TASK_MANAGERS):
                        equal = False
                        print(f"!! {f.stage} ran on {sorted(where)} only", flush=True)
                if not equal:
                    all_equal = False
                    print(f"!! {f.stage}: {out.height} rows against the oracle's "
                          f"{oracles[name].height}, or not on every TaskManager")  # fmt: skip
                runs.append(f)
            kept = best(runs)
            kept.extra["all_wall_s"] = [round(f.wall_s, 2) for f in runs]
            note(kept)
    return figures, oracles, all_equal


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """os.environ with ``values`` set for a stack's phase (the Workbench reads it), restored."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def on_embedded(args: argparse.Namespace, stamp: str, scratch: Path) -> Phase:
    with (
        tempfile.TemporaryDirectory(prefix="kappanb-replay-embedded-") as home,
        environment(KAPPANB_HOME=home, KAPPANB_PROFILE="embedded"),
    ):
        stack = EmbeddedStack(StackSettings.from_env())
        print(f"== embedded stack in {home}: starting ...", flush=True)
        began = time.perf_counter()
        try:
            stack.up()
            started_s = time.perf_counter() - began
            wb = Workbench(stack.settings, auto_up=False)
            bench = stages.Bench(stack, wb, f"bench.payments.{stamp}", f"bench_{stamp}",
                                 args.events, scratch / "embedded",
                                 stack.settings.checkpoint_interval)  # fmt: skip
            bench.scratch.mkdir()
            return (started_s, stack.settings.checkpoint_interval,
                    *run_stages(bench, args, stamp, None))  # fmt: skip
        finally:
            stack.down()


def on_cluster(args: argparse.Namespace, stamp: str, scratch: Path) -> Phase:
    with tempfile.TemporaryDirectory(prefix="kappanb-replay-cluster-") as home:
        cluster = LocalCluster(Path(home) / "cluster")
        print(f"== local cluster in {home}: starting ...", flush=True)
        began = time.perf_counter()
        try:
            cluster.up(lambda said: print(f"   {said}", flush=True))
            started_s = time.perf_counter() - began
            pids = {s.name: s.pid for s in cluster.status().services if s.pid is not None}
            client = {"KAPPANB_CONFIG": str(cluster.profile_file), "KAPPANB_PROFILE": PROFILE_NAME}
            with environment(KAPPANB_HOME=str(Path(home) / "kappanb"), **client):
                wb = Workbench(profile=PROFILE_NAME, auto_up=False)
                rest_url = wb.stack.endpoints().flink_rest_url
                bench = stages.Bench(wb.stack, wb, f"bench.payments.{stamp}", f"bench_{stamp}",
                                     args.events, scratch / "cluster",
                                     wb.stack.settings.checkpoint_interval, pids=lambda: pids,
                                     reader_bootstrap=kafka_nodes.plaintext_bootstrap(
                                         cluster.ports()), client_env=client)  # fmt: skip
                bench.scratch.mkdir()
                where: Placed = lambda job: placed(rest_url, job)  # noqa: E731
                return (started_s, wb.stack.settings.checkpoint_interval,
                        *run_stages(bench, args, stamp, where))  # fmt: skip
        finally:
            cluster.down()


def placed(rest_url: str, job_id: str) -> set[str]:
    """The TaskManagers a (finished) Flink job's subtasks ran on."""

    def get(path: str) -> Any:
        with urllib.request.urlopen(f"{rest_url}{path}", timeout=10) as answer:
            return json.load(answer)

    vertices = get(f"/jobs/{job_id}")["vertices"]
    answers = []
    for v in vertices:
        answers.append(get(f"/jobs/{job_id}/vertices/{v['id']}"))
        answers.append(get(f"/jobs/{job_id}/vertices/{v['id']}/taskmanagers"))
    return taskmanagers(answers)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    began, stamp = time.perf_counter(), time.strftime("%Y%m%d%H%M%S")
    with tempfile.TemporaryDirectory(prefix="replay-cluster-bench-") as scratch:
        e_start, e_interval, embedded, e_oracles, e_equal = on_embedded(args, stamp, Path(scratch))
        c_start, c_interval, cluster, c_oracles, c_equal = on_cluster(args, stamp, Path(scratch))
    oracles_agree = all(e_oracles[w].equals(c_oracles[w]) for w in args.workloads)
    if not oracles_agree:
        print("!! the two stacks' oracles differ: the topics do not hold the same events")
    ratios = compare(embedded, cluster)
    every_tm = {flink_nodes.resource_id(s) for s in TASK_MANAGERS}
    print("\nembedded stack:\n" + table(embedded))
    print("\nlocal cluster:\n" + table(cluster))
    print("\n" + versus_lines(ratios))
    all_equal = e_equal and c_equal and oracles_agree
    document = {
        "benchmark": "replay_cluster",
        "date": date.today().isoformat(),
        "machine": machine(),
        "events": args.events,
        "partitions": 4,
        "repeat": args.repeat,
        "checkpoint_interval": {"embedded": e_interval, "cluster": c_interval},
        "start_s": {"embedded": round(e_start, 1), "cluster": round(c_start, 1)},
        "embedded": [f.as_json() for f in embedded],
        "cluster": [f.as_json() for f in cluster],
        "ratios_cluster_over_embedded": ratios,
        "cluster_taskmanagers": sorted(every_tm),
        "oracles_agree": oracles_agree,
        "outputs_equal_oracle": all_equal,
        "total_s": round(time.perf_counter() - began, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"replay_cluster-{document['date']}.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {out} ({document['total_s']} s in all)")
    return 0 if all_equal else 1


if __name__ == "__main__":
    sys.exit(main())
