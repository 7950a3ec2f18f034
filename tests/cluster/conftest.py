"""One local cluster for the tests of this package: started when a test first needs it, in a
temporary home on ports of its own (a cluster of yours, if any, is left alone), stopped
after the package's last test."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kappanb.cluster.layout import PROFILE_NAME
from kappanb.cluster.local import LocalCluster
from kappanb.cluster.results import ClusterUpResult
from kappanb.exceptions import KappaError
from kappanb.stack.external import ExternalStack
from kappanb.workbench import Workbench


@dataclass
class SessionCluster:
    """The package's cluster, what its first `up` returned and said, and how long it took."""

    cluster: LocalCluster
    first_up: ClusterUpResult
    said: list[str] = field(default_factory=list)
    seconds: float = 0.0


@pytest.fixture(scope="package")
def started() -> Iterator[SessionCluster]:
    """Started for the first test of tests/cluster and stopped after its last: its seven
    processes do not stay up (and take CPU) while the rest of the suite runs."""
    home = Path(tempfile.mkdtemp(prefix="kappanb-cluster-"))
    cluster = LocalCluster(home)
    said: list[str] = []
    began = time.monotonic()
    try:
        result = cluster.up(said.append)
        yield SessionCluster(cluster, result, said, time.monotonic() - began)
    finally:
        cluster.down()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="package")
def local_cluster(started: SessionCluster) -> LocalCluster:
    return started.cluster


def _workbench(
    cluster: LocalCluster, home: Path, monkeypatch: pytest.MonkeyPatch, interval: str | None
) -> Iterator[Workbench]:
    """A Workbench on the cluster's profile, chosen by name as a user would; its runs
    checkpoint every ``interval`` (None: kappanb's default)."""
    monkeypatch.setenv("KAPPANB_CONFIG", str(cluster.profile_file))
    monkeypatch.setenv("KAPPANB_HOME", str(home / "home"))
    if interval is None:
        monkeypatch.delenv("KAPPANB_CHECKPOINT_INTERVAL", raising=False)
    else:
        monkeypatch.setenv("KAPPANB_CHECKPOINT_INTERVAL", interval)
    monkeypatch.delenv("KAPPANB_PROFILE", raising=False)
    wb = Workbench(profile=PROFILE_NAME, auto_up=False)
    assert isinstance(wb.stack, ExternalStack)
    yield wb
    for run in wb.runs():  # leave the cluster's slots free for the next test
        if run.active:
            with contextlib.suppress(KappaError):  # it may have ended meanwhile
                wb.stop(run.job, run.version)


@pytest.fixture
def workbench(
    local_cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workbench]:
    """Checkpoints every 2 s: a test's runs commit their output soon."""
    yield from _workbench(local_cluster, tmp_path, monkeypatch, "2 s")


@pytest.fixture
def default_interval_workbench(
    local_cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workbench]:
    """Checkpoints at kappanb's default interval (10 s). For large RocksDB state: every
    checkpoint flushes RocksDB's memtables to new files and uploads what compaction
    rewrote, so at 2 s a replay of 160 MB of state spent most of its time on that."""
    yield from _workbench(local_cluster, tmp_path, monkeypatch, None)
