"""CPU seconds and wall time of one benchmark stage, over the stack and the stage's clients.

The stack's processes (broker, JobManager, TaskManager, with their children) live through
every stage: their CPU is read at the stage's start and end. A client (the perf tool, the
SQL client, the kappanb CLI, a Python reader) is a subprocess whose tree is sampled every
0.2 s while it runs, and its own CPU is also taken from the kernel when it is reaped; the
larger of the two counts (a grandchild that exits between samples may lose < 0.2 s).
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its live children."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def threads_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (the kernel's 15-character name) of one process."""
    ticks = float(os.sysconf("SC_CLK_TCK"))
    result: dict[str, float] = {}
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                name = (task / "comm").read_text().strip()
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            result[name] = result.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    except OSError:
        pass
    return result


@dataclass
class Figure:
    """What one stage measured."""

    stage: str
    records: int
    wall_s: float
    cpu_stack_s: dict[str, float]
    cpu_client_s: float
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu_stack_s.values()) + self.cpu_client_s

    @property
    def events_per_s(self) -> float:
        return self.records / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def cpu_s_per_million(self) -> float:
        return self.cpu_s / (self.records / 1e6) if self.records else 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "records": self.records,
            "wall_s": round(self.wall_s, 3),
            "events_per_s": round(self.events_per_s),
            "cpu_s": round(self.cpu_s, 2),
            "cpu_s_per_million": round(self.cpu_s_per_million, 2),
            "cpu_stack_s": {k: round(v, 2) for k, v in self.cpu_stack_s.items()},
            "cpu_client_s": round(self.cpu_client_s, 2),
            **self.extra,
        }


class ClientSampler:
    """Samples the CPU of client process trees while they run."""

    def __init__(self) -> None:
        self.seen: dict[int, float] = {}
        self.roots: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-client-cpu", daemon=True)
        self._thread.start()

    def watch(self, pid: int) -> None:
        self.roots.append(pid)
        self._sample()

    def _sample(self) -> None:
        for root in list(self.roots):
            try:
                proc = psutil.Process(root)
                procs = [proc, *proc.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for p in procs:
                try:
                    t = p.cpu_times()
                    self.seen[p.pid] = max(self.seen.get(p.pid, 0.0), t.user + t.system)
                except psutil.NoSuchProcess:
                    pass

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def close(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(self.seen.values())


class Stage:
    """The open measurement of one stage (see :func:`stage`)."""

    def __init__(self, name: str, services: Mapping[str, int]) -> None:
        self.name, self.services = name, dict(services)
        self.records = 0
        self.extra: dict[str, object] = {}
        self.sampler = ClientSampler()
        self.reaped = 0.0
        self.wall_s = 0.0
        self.cpu_stack: dict[str, float] = {}
        self.cpu_client = 0.0

    def run(
        self, argv: list[str], env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a client to its end, counting its CPU; raise with its output if it fails."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.sampler.watch(proc.pid)
        out, err = proc.communicate()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.reaped += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv[:3])}… exited with {proc.returncode}:\n{out[-2000:]}{err[-4000:]}"
            )
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@contextmanager
def stage(name: str, services: Mapping[str, int]) -> Iterator[Stage]:
    """Measure wall time and CPU of the stack's ``services`` (name -> pid) and of clients."""
    current = Stage(name, services)
    start = {s: tree_cpu(pid) for s, pid in current.services.items()}
    began = time.perf_counter()
    try:
        yield current
    finally:
        current.wall_s = time.perf_counter() - began
        current.cpu_stack = {s: tree_cpu(pid) - start[s] for s, pid in current.services.items()}
        current.cpu_client = max(current.sampler.close(), current.reaped)


def figure(done: Stage) -> Figure:
    return Figure(done.name, done.records, done.wall_s, done.cpu_stack, done.cpu_client, done.extra)
