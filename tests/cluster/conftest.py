"""One local cluster per test session: started when a test first needs it, in a temporary
home on ports of its own (a cluster of yours, if any, is left alone), stopped at the end."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kappanb.cluster.local import LocalCluster
from kappanb.cluster.results import ClusterUpResult

_SESSION = pytest.StashKey["SessionCluster"]()


@dataclass
class SessionCluster:
    """The session's cluster, what its first `up` returned and said, and how long it took."""

    cluster: LocalCluster
    first_up: ClusterUpResult
    said: list[str] = field(default_factory=list)
    seconds: float = 0.0


def session_cluster(config: pytest.Config) -> SessionCluster:
    if _SESSION not in config.stash:
        home = Path(tempfile.mkdtemp(prefix="kappanb-cluster-"))
        cluster = LocalCluster(home)

        def stop() -> None:
            cluster.down()
            shutil.rmtree(home, ignore_errors=True)

        config.add_cleanup(stop)
        said: list[str] = []
        began = time.monotonic()
        result = cluster.up(said.append)
        config.stash[_SESSION] = SessionCluster(cluster, result, said, time.monotonic() - began)
    return config.stash[_SESSION]


@pytest.fixture(scope="session")
def started(request: pytest.FixtureRequest) -> SessionCluster:
    return session_cluster(request.config)


@pytest.fixture(scope="session")
def local_cluster(started: SessionCluster) -> LocalCluster:
    return started.cluster
