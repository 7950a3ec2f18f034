"""Where the CPU of a replay goes: JFR on the TaskManager, per-thread CPU of TM and broker.

One more `kappanb replay` of a workload runs (not counted among the measured stages)
while Java Flight Recorder samples the TaskManager's Java threads. Each sample is put in
the category of the innermost frame that belongs to a known part (JSON decoding, the
Kafka consumer, Iceberg/Parquet writing, aggregation state, ...). The kernel's per-thread
CPU counters of the TaskManager and the broker, read before and after, say how much went
to garbage collection and the JIT compiler, which JFR's execution samples do not see.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import polars as pl
import psutil

from benchmarks.replaybench.measure import threads_cpu
from benchmarks.replaybench.workloads import Workload

# Innermost matching frame wins; a sample with no match falls to its leaf's package.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("JSON decoding", ("formats.json", "jackson")),
    ("Kafka consumer (fetch, decompress)", ("org.apache.kafka", "jpountz", "lz4")),
    ("Iceberg/Parquet writing", ("org.apache.iceberg", "org.apache.parquet", "org.apache.hadoop")),
    ("checkpointing", ("runtime.checkpoint", "CheckpointCoordinator", "state.filesystem")),
    ("aggregation state", ("runtime.state", "runtime.dataview", "operators.aggregate")),
    ("records between tasks (serialize, network)", ("runtime.io.network", "typeutils")),
    ("SQL operators (generated code, rows)", ("table.runtime", "table.data", "codegen")),
)


_REST = ("JVM and libraries (collections, I/O)", "Flink runtime (mailbox, metrics, RPC)")


def category(frames: list[str]) -> str:
    """``frames`` from leaf to root, each 'package.Class.method'."""
    for frame in frames:
        for name, marks in CATEGORIES:
            if any(mark in frame for mark in marks):
                return name
        if frame.split(".")[0][:1].isupper():  # generated classes live in no package
            return "SQL operators (generated code, rows)"
    leaf = frames[0] if frames else ""
    if leaf.startswith("org.apache.flink"):
        return "Flink runtime (mailbox, metrics, RPC)"
    return "JVM and libraries (collections, I/O)"


def thread_group(name: str) -> str:
    """A thread name without its instance numbers: the role, not the instance."""
    name = re.sub(r"\(\d+/\d+\)|#\d+|\[\d+\]|_\d{14}|[-#]\d+$", "", name)
    return re.sub(r"\s+", " ", name).strip()


def jfr_samples(recording: Path) -> list[tuple[str, list[str]]]:
    """(thread, frames leaf to root) of each execution sample in a JFR file."""
    out = subprocess.run(
        [
            "jfr",
            "print",
            "--json",
            "--stack-depth",
            "40",
            "--events",
            "jdk.ExecutionSample",
            str(recording),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    samples = []
    for event in json.loads(out)["recording"]["events"]:
        values = event["values"]
        thread = (values.get("sampledThread") or {}).get("javaName") or "?"
        frames = [  # JFR names types with slashes: org/apache/kafka/... -> org.apache.kafka...
            f"{f['method']['type']['name'].replace('/', '.')}.{f['method']['name']}"
            for f in (values.get("stackTrace") or {}).get("frames", [])
        ]
        samples.append((thread, frames))
    return samples


def shares(counts: Counter[str], top: int = 8) -> dict[str, float]:
    total = sum(counts.values()) or 1
    return {k: round(100 * v / total, 1) for k, v in counts.most_common(top)}


def cpu_groups(
    before: dict[str, float], after: dict[str, float], process_s: float
) -> dict[str, float]:
    """CPU seconds per thread role between two readings of one process.

    Threads that started and ended in between (a finished job's task threads) are in
    neither reading: they get what the process used beyond the threads still there."""
    groups: defaultdict[str, float] = defaultdict(float)
    for name, cpu in after.items():
        groups[_role(name)] += max(0.0, cpu - before.get(name, 0.0))
    top = sorted(groups.items(), key=lambda kv: -kv[1])[:8]
    result = {k: round(v, 2) for k, v in top if v >= 0.05}
    gone = process_s - sum(groups.values())
    if gone >= 0.05:
        result["threads that came and went (the job's tasks)"] = round(gone, 2)
    return dict(sorted(result.items(), key=lambda kv: -kv[1]))


def _process_cpu(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def _role(comm: str) -> str:
    if comm.startswith(("GC Thread", "G1 ")):
        return "garbage collection"
    if "CompilerThre" in comm:
        return "JIT compiler"
    return thread_group(comm)


def profile_replay(
    bench: Any,
    workload: Workload,
    job: str,
    scratch: Path,
    expected: pl.DataFrame,
    label: str = "default",
) -> dict[str, object]:
    """Replay ``job`` once more under JFR; return the TaskManager's and broker's CPU split.

    ``label`` names the replay's kind ("default", "fail-fast"): the caller declares the
    topic to match. The output is checked against ``expected`` too (``replay.equals_oracle``)."""
    from benchmarks.replaybench import stages

    pids = bench.services
    tm, broker = pids["flink-taskmanager"], pids["kafka"]
    scratch.mkdir(parents=True, exist_ok=True)
    recording = scratch / f"profile-{workload.name}-{label}.jfr"
    subprocess.run(
        [
            "jcmd",
            str(tm),
            "JFR.start",
            "name=kappanb-bench",
            "settings=profile",
            f"filename={recording}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    tm_before, broker_before = threads_cpu(tm), threads_cpu(broker)
    tm_cpu, broker_cpu = _process_cpu(tm), _process_cpu(broker)
    try:
        variant = "" if label == "default" else label
        figure, out = stages.kappanb_replay(bench, workload, job, 1, variant)
        figure.extra["equals_oracle"] = out.equals(expected)
    finally:
        tm_after, broker_after = threads_cpu(tm), threads_cpu(broker)
        tm_cpu, broker_cpu = _process_cpu(tm) - tm_cpu, _process_cpu(broker) - broker_cpu
        subprocess.run(
            ["jcmd", str(tm), "JFR.stop", "name=kappanb-bench"],
            capture_output=True,
            text=True,
            check=True,
        )
    samples = jfr_samples(recording)
    by_category = Counter(category(frames) for _, frames in samples)
    by_thread = Counter(thread_group(thread) for thread, _ in samples)
    rest = Counter(
        frames[0].rsplit(".", 1)[0] for _, frames in samples if frames and category(frames) in _REST
    )
    return {
        "replay": figure.as_json(),
        "jfr_samples": len(samples),
        "taskmanager_java_samples_pct": shares(by_category),
        "taskmanager_samples_by_thread_pct": shares(by_thread, 6),
        "uncategorised_leaf_classes_pct_of_all": {
            k: round(100 * v / max(1, len(samples)), 1) for k, v in rest.most_common(8)
        },
        "taskmanager_cpu_s_by_thread": cpu_groups(tm_before, tm_after, tm_cpu),
        "broker_cpu_s_by_thread": cpu_groups(broker_before, broker_after, broker_cpu),
    }
