"""Read time of an aged updating table against a fresh one, with maintenance on and off.

    .venv/bin/python benchmarks/table_maintenance.py     # 100,000 keys, 39 commits, compact every 5
    .venv/bin/python benchmarks/table_maintenance.py --keys 300000     # benchmarks/README's
    .venv/bin/python benchmarks/table_maintenance.py --keys 200 --commits 9 --compact-every 4
        [--reads 15] [--home HOME] [--out DIR]

On the embedded stack (a fresh one in a temporary home unless --home names a running
one), three live runs of the same GROUP BY read one topic with 1 s checkpoints. A first
commit brings --keys keys (one event each); then a trickle of events (40 a commit, on
random keys, each commit waited for in every table) ages them by --commits commits. "off"
is never compacted, "on" is compacted (`Workbench.compact`) every --compact-every commits,
and "sink" is maintained by Iceberg's Flink sink (`kappanb.tables.maintenance`, its default
policy but a rewrite every --compact-every commits). Then, with the jobs stopped, a
"fresh" table gets the same rows in one data file. Every table is read by the same function
(`read_table`, what `read` does once it has the table's name), --reads rounds, one read of
each table in turn per round (a change in the machine's load falls on all alike); the
figures are the ratios of the medians aged/fresh, with min and max. "on" is read as the run
left it (commits % compact-every commits after its last compaction: the defaults leave 4,
its worst), then compacted once more and read again in turn with the fresh table. Also:
where each read goes (load, plan, read files, merge), one "cold" read of each (nothing
decoded yet in this process), "on" read while the jobs ran (just before each compaction),
and the live files. Rows are checked against a Python oracle.
Goal (issue 22): "on" within 1.5x of fresh, its files bounded. JSON in benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import machine
from kappanb.settings import StackSettings
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import DEFAULT_NAMESPACE, Catalog, open_catalog
from kappanb.tables.maintenance import MaintenancePolicy
from kappanb.tables.merge_read import DATA, KEYS, MANIFESTS, applicable, plan_files
from kappanb.tables.read import read_table
from kappanb.tables.rewrite_commit import live_files
from kappanb.workbench import Workbench

SQL = "SELECT merchant, COUNT(*) AS payments, SUM(amount) AS total FROM {source} GROUP BY merchant"
MERCHANTS, BATCH = 200, 40
Rows = frozenset[tuple[str, int, int]]


def oracle(events: list[dict[str, Any]]) -> Rows:
    counts: dict[str, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    for e in events:
        counts[e["merchant"]] += 1
        totals[e["merchant"]] += e["amount"]
    return frozenset((m, counts[m], totals[m]) for m in counts)


def _rows(catalog: Catalog, table: str) -> Rows:
    frame = read_table(catalog, table).select("merchant", "payments", "total")
    return frozenset((str(m), int(p), int(t)) for m, p, t in frame.iter_rows())


def _wait_for(probe: Callable[[], Rows], want: Rows, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while probe() != want:
        if time.monotonic() > deadline:
            raise SystemExit("a table did not reach the oracle in time")
        time.sleep(0.2)


def _wait_for_rewrite(wb: Workbench, job: str, timeout: float) -> None:
    """Until the sink has committed a rewrite of the job's table (a ``replace`` snapshot)."""
    deadline = time.monotonic() + timeout
    while not any(s.summary is not None and s.summary.operation.value == "replace"
                  for s in _table(wb, job).snapshots()):  # fmt: skip
        if time.monotonic() > deadline:
            raise SystemExit(f"the sink rewrote no file of {job} in {timeout:.0f} s")
        time.sleep(0.5)


def _files(catalog: Catalog, name: str) -> dict[str, int]:
    """Live data and delete files, and how many delete files a read opens (those that
    apply to a live data file)."""
    table = open_catalog(catalog).load_table((DEFAULT_NAMESPACE, name))
    files = live_files(table, table.current_snapshot())
    read = applicable(plan_files(table, table.current_snapshot()))
    return {"data_files": len(files.data), "delete_files": len(files.deletes),
            "delete_files_read": sum(1 for ref in read if ref.content != DATA)}  # fmt: skip


def _table(wb: Workbench, job: str) -> Any:
    catalog = open_catalog(wb.stack.endpoints().catalog)
    return catalog.load_table((DEFAULT_NAMESPACE, wb.runs(job)[-1].table))


def _cold(read: Callable[[], object]) -> float:
    """One read with no manifest decoded and no key index built yet in this process
    (`read` keeps them)."""
    MANIFESTS.clear()
    KEYS.clear()
    return _times(read, rounds=1)[0]


def _times(read: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        read()
        times.append(time.perf_counter() - began)
    return times


def _spread(times: list[float]) -> dict[str, float]:
    """Median, min and max of repeated reads, seconds."""
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def phases(catalog: Any, name: str, rounds: int) -> dict[str, float]:
    """Where one `read` of table ``name`` goes (medians over ``rounds``, seconds): loading
    the table (catalog, metadata), planning (manifest list, manifests), reading the data
    files, reading the delete files that apply, and merging (deletes applied)."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    from kappanb.tables.merge_read import merge, read_all

    split: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        t0 = time.perf_counter()
        table = open_catalog(catalog).load_table((DEFAULT_NAMESPACE, name))
        snapshot, schema = table.current_snapshot(), table.schema()
        t1 = time.perf_counter()
        refs = applicable(plan_files(table, snapshot))
        t2 = time.perf_counter()
        data, deletes = read_all(table, refs, schema)
        t3 = time.perf_counter()
        merge(data, deletes, schema_to_pyarrow(schema, include_field_ids=False), KEYS)
        t4 = time.perf_counter()
        for key, seconds in (("load", t1 - t0), ("plan", t2 - t1), ("read_files", t3 - t2),
                             ("merge", t4 - t3)):  # fmt: skip
            split[key].append(seconds)
    return {key: statistics.median(values) for key, values in split.items()}


def _fresh_copy(wb: Workbench, job: str) -> str:
    """A new table with the aged table's schema and rows, in one data file."""
    from kappanb.tables.merge_read import read_snapshot
    from kappanb.tables.rewrite_commit import write_data_files

    aged = _table(wb, job)
    name = f"{job}_fresh"
    fresh = open_catalog(wb.stack.endpoints().catalog).create_table(
        (DEFAULT_NAMESPACE, name), aged.schema(), properties={"format-version": "2"}
    )
    files = write_data_files(fresh, read_snapshot(aged))
    with fresh.transaction() as tx, tx.update_snapshot().fast_append() as append:
        for file in files:
            append.append_data_file(file)
    return name


def measure(
    wb: Workbench, commits: int, compact_every: int, *, keys: int = 200, reads: int = 9,
    seed: int = 7,
) -> dict[str, Any]:  # fmt: skip
    """Age the "off", "on" and "sink" runs by ``commits`` commits after a first one of
    ``keys`` rows; read them and a fresh copy, each ``reads`` times. The runs' tables are
    created by ``wb``'s stack, "sink"'s maintained by the sink."""
    stamp = time.strftime("%Y%m%d%H%M%S")
    topic, source = f"maint.events.{stamp}", f"maint_{stamp}"
    plain = Workbench(replace(wb.settings, table_maintenance=None), auto_up=False)
    policy = MaintenancePolicy(rewrite_every_commits=compact_every)
    maintained = Workbench(replace(wb.settings, table_maintenance=policy), auto_up=False)
    plain.topic(topic, "merchant STRING, amount BIGINT", partitions=1, table=source)
    off, on, sink = f"maint_off_{stamp}", f"maint_on_{stamp}", f"maint_sink_{stamp}"
    for job, runner in ((off, plain), (on, plain), (sink, maintained)):
        runner.job(job, SQL.format(source=source), note="table maintenance benchmark")
        runner.run(job, watch=False)
    jobs = (off, on, sink)
    catalog = wb.stack.endpoints().catalog
    tables = {job: wb.runs(job)[-1].table for job in jobs}
    rng = random.Random(seed)
    events = [{"merchant": f"m{k}", "amount": rng.randrange(1, 999)} for k in range(keys)]
    compacted, live_on = 0, []
    try:
        for i in range(commits + 1):  # commit 0: every key once
            if i:
                batch = [{"merchant": f"m{rng.randrange(keys)}", "amount": rng.randrange(1, 999)}
                         for _ in range(BATCH)]  # fmt: skip
                events += batch
            wb.produce(topic, batch if i else events)
            want = oracle(events)
            for job in jobs:
                _wait_for(lambda job=job: _rows(catalog, tables[job]), want)  # type: ignore[misc]
            if i and i % compact_every == 0:  # "on" at its worst first: the most commits since
                live_on += _times(lambda: read_table(catalog, tables[on]), reads)
                compacted += 1
                wb.compact(on)
        _wait_for_rewrite(wb, sink, timeout=120)
    finally:
        for job in jobs:
            wb.stop(job, 1)
    if {_rows(catalog, tables[job]) for job in jobs} != {want}:
        raise SystemExit("a table's rows differ from the oracle")
    fresh = _fresh_copy(wb, off)
    names = {"fresh": fresh, "off": tables[off], "on": tables[on], "sink": tables[sink]}
    files = {name: _files(catalog, table) for name, table in names.items()}
    cold = {name: _cold(partial(read_table, catalog, table)) for name, table in names.items()}
    # "off" in rounds of its own: its reads, long and memory-hungry, may slow the read after
    # each (a run with it in the rounds: "on" 87 ms, against 40 ms by its phases)
    times = _interleaved(catalog, {k: v for k, v in names.items() if k != "off"}, reads)
    times["off"] = _interleaved(catalog, {"off": names["off"]}, reads)["off"]
    split = {name: phases(catalog, table, reads) for name, table in names.items()}
    wb.compact(on)  # then "on" just compacted, against the fresh table read in turn with it
    compacted += 1
    files["on_compacted"] = _files(catalog, tables[on])
    again = _interleaved(catalog, {"fresh": fresh, "on_compacted": tables[on]}, reads)
    times["on_compacted"], times["fresh_again"] = again["on_compacted"], again["fresh"]
    split["on_compacted"] = phases(catalog, tables[on], reads)
    if live_on:
        times["on_live_before_compaction"] = live_on
    spread = {name: _spread(t) for name, t in times.items()}
    median = {name: s["median"] for name, s in spread.items()}

    def base(name: str) -> float:
        return median["fresh_again" if name == "on_compacted" else "fresh"]

    return {
        "commits": commits, "compact_every": compact_every, "compactions": compacted,
        "on_commits_since_compaction": commits % compact_every,
        "keys": keys, "rows": len(want), "events": len(events), "reads": reads,
        "read_seconds": median, "read_spread": spread, "read_phases": split,
        "cold_read_seconds": cold,
        "ratio_cold_sink_to_fresh": cold["sink"] / cold["fresh"],
        "ratio_cold_on_to_fresh": cold["on"] / cold["fresh"],
        **{f"ratio_{name}_to_fresh": median[name] / base(name)
           for name in median if not name.startswith("fresh")},
        "ratio_spread": {name: [s["min"] / base(name), s["max"] / base(name)]
                         for name, s in spread.items() if not name.startswith("fresh")},
        "files": files,
    }  # fmt: skip


def _interleaved(catalog: Catalog, tables: dict[str, str], rounds: int) -> dict[str, list[float]]:
    """Read seconds of each table, ``rounds`` times, one read of each in turn per round (so
    a change in the machine's load falls on all alike)."""
    times: dict[str, list[float]] = {name: [] for name in tables}
    for _ in range(rounds):
        for name, table in tables.items():
            times[name] += _times(partial(read_table, catalog, table), 1)
    return times


def summary(result: dict[str, Any]) -> str:
    """The figures, as a table a reader can check against the JSON."""
    reads, spread, files = result["read_seconds"], result["read_spread"], result["files"]
    since = result["on_commits_since_compaction"]
    rows = [
        ("fresh (one data file)", "fresh", "fresh"),
        ("off (never compacted)", "off", "fresh"),
        (f"on, {since} commits after its last compaction", "on", "fresh"),
        ("on, just compacted", "on_compacted", "fresh_again"),
        ("sink (Iceberg's Flink maintenance)", "sink", "fresh"),
    ]
    lines = [
        f"{result['rows']:,} rows, {result['commits']} commits after the first, "
        f"median of {result['reads']} reads each (min-max), tables read in turn",
        f"{'table':<44} {'data/delete files (opened)':>27} {'read ms':>17} {'aged/fresh':>17}",
    ]
    for label, name, base in rows:
        s, fresh, f = spread[name], reads[base], files[name if name in files else "fresh"]
        counts = f"{f['data_files']}/{f['delete_files']} ({f['delete_files_read']})"
        ms = f"{s['median'] * 1e3:.1f} ({s['min'] * 1e3:.0f}-{s['max'] * 1e3:.0f})"
        ratio = f"{s['median'] / fresh:.2f} ({s['min'] / fresh:.2f}-{s['max'] / fresh:.2f})"
        lines.append(f"{label:<44} {counts:>27} {ms:>17} {ratio:>17}")
    worst = result["ratio_on_to_fresh"]
    verdict = "met" if worst <= 1.5 and result["ratio_on_compacted_to_fresh"] <= 1.5 else "NOT met"
    lines.append(
        f"goal (on within 1.5x of fresh, at its worst and just compacted): {verdict} "
        f"({worst:.2f}x and {result['ratio_on_compacted_to_fresh']:.2f}x, medians)"
    )
    return "\n".join(lines)


def _open_stack(home: Path | None, cleanup: ExitStack) -> EmbeddedStack:
    if home is not None:
        stack = EmbeddedStack(StackSettings.from_env({**os.environ, "KAPPANB_HOME": str(home)}))
        if not stack.status().healthy:
            raise SystemExit(f"the stack of {home} is not running: `kappanb up` it first")
        return stack
    temp = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="kappanb-maint-bench-"))
    stack = EmbeddedStack(StackSettings.from_env({**os.environ, "KAPPANB_HOME": temp}))
    print(f"starting a stack in {temp} ...", flush=True)
    stack.up()
    cleanup.callback(stack.down)
    return stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=39)
    parser.add_argument("--compact-every", type=int, default=5)
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=15)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    with ExitStack() as cleanup:
        stack = _open_stack(args.home, cleanup)
        wb = Workbench(replace(stack.settings, checkpoint_interval="1 s"), auto_up=False)
        result = measure(wb, args.commits, args.compact_every, keys=args.keys, reads=args.reads)
    result["machine"] = machine()
    print(json.dumps(result, indent=2))
    print(summary(result))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"table_maintenance-{date.today()}.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
