"""`cluster up` that cannot finish leaves nothing half-started: a port taken before anything
starts, and a service that dies while the others start (each in a home of its own)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from kappanb.cluster import object_store
from kappanb.cluster.layout import SERVICES
from kappanb.cluster.local import LocalCluster
from kappanb.cluster.ports import OFFSETS
from kappanb.exceptions import PortInUseError, ServiceStartError
from kappanb.stack.process import find_by_marks
from tests.cluster.test_cluster_files import free_base

pytestmark = pytest.mark.cluster


def nothing_runs(cluster: LocalCluster) -> None:
    assert not list(cluster.layout.run_dir.glob("*.pid"))
    assert not [s for s in SERVICES if find_by_marks(cluster.processes.marks(s))]
    assert {s.state for s in cluster.status().services} == {"stopped"}


def test_a_taken_port_of_a_port_base_starts_nothing(tmp_path: Path) -> None:
    base = free_base()
    cluster = LocalCluster(tmp_path / "cluster", port_base=base)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + OFFSETS["flink_rest"]))
        taken.listen()
        with pytest.raises(PortInUseError, match=r"flink-jobmanager .*choose another --port-base"):
            cluster.up()
    nothing_runs(cluster)
    assert not cluster.profile_file.exists()


def test_a_service_that_dies_while_starting_stops_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(weed: Path, *_args: object) -> list[str]:
        return [str(weed), "mini", "-no-such-flag=1"]

    monkeypatch.setattr(object_store, "argv", broken)
    cluster = LocalCluster(tmp_path / "cluster")
    said: list[str] = []
    with pytest.raises(ServiceStartError) as failed:
        cluster.up(said.append)
    message = str(failed.value)
    assert "seaweedfs of the local cluster exited during start-up" in message
    assert "flag provided but not defined: -no-such-flag" in message
    assert "then run `kappanb cluster up` again" in message
    assert any(line.startswith("stopping what this `up` started") for line in said)
    nothing_runs(cluster)
    assert not cluster.profile_file.exists()
