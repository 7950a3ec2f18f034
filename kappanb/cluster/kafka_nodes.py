"""The local cluster's Kafka: three KRaft nodes, each broker and controller, one quorum.

Each node has a PLAINTEXT listener (between the brokers, and for kappanb's own checks) and
a SASL_PLAINTEXT listener with SASL/PLAIN and one user, ``kappa`` (what the profile uses).
The password stays in its 0600 file: the broker's configuration names the file through
Kafka's directory config provider, so no configuration or log holds the value.

The embedded broker's helpers (`kappanb.stack.kafka_broker`) format and start each node;
its files are laid out as an embedded home's (`ClusterLayout.kafka_node`).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kappanb.cluster.layout import KAFKA_NODES, ClusterLayout
from kappanb.cluster.secrets import KAFKA_USER
from kappanb.stack import kafka_broker
from kappanb.stack.jars import JarSet
from kappanb.stack.java import JavaRuntime
from kappanb.stack.ports import HOST

_SILENT = logging.getLogger("kappanb.librdkafka.cluster")
_SILENT.addHandler(logging.NullHandler())
_SILENT.propagate = False


def voters(ports: Mapping[str, int]) -> str:
    """The static controller quorum: every node's controller listener."""
    return ",".join(f"{n}@{HOST}:{ports[f'kafka_{n}_controller']}" for n in KAFKA_NODES)


def plaintext_bootstrap(ports: Mapping[str, int]) -> str:
    return ",".join(f"{HOST}:{ports[f'kafka_{n}']}" for n in KAFKA_NODES)


def sasl_bootstrap(ports: Mapping[str, int]) -> str:
    return ",".join(f"{HOST}:{ports[f'kafka_{n}_sasl']}" for n in KAFKA_NODES)


def server_properties(layout: ClusterLayout, node: int, ports: Mapping[str, int]) -> str:
    """Node ``node``'s configuration: the log is the system of record, nothing expires."""
    plain, sasl = ports[f"kafka_{node}"], ports[f"kafka_{node}_sasl"]
    controller = ports[f"kafka_{node}_controller"]
    secrets = layout.secrets_dir
    jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'user_{KAFKA_USER}="${{dir:{secrets}:{layout.kafka_password.name}}}";'
    )
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node),
        "controller.quorum.voters": voters(ports),
        "listeners": (
            f"PLAINTEXT://{HOST}:{plain},SASL_PLAINTEXT://{HOST}:{sasl},"
            f"CONTROLLER://{HOST}:{controller}"
        ),
        "advertised.listeners": f"PLAINTEXT://{HOST}:{plain},SASL_PLAINTEXT://{HOST}:{sasl}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": (
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
        ),
        "sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas,
        # The password is read from its file when the broker starts (never written here).
        "config.providers": "dir",
        "config.providers.dir.class": (
            "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
        ),
        "config.providers.dir.param.allowed.paths": str(secrets),
        "log.dirs": str(layout.kafka_node(node).kafka_data),
        "num.partitions": "1",
        "default.replication.factor": "3",
        "min.insync.replicas": "2",
        "offsets.topic.replication.factor": "3",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "3",
        "transaction.state.log.min.isr": "2",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "3",
        "share.coordinator.state.topic.min.isr": "2",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "log.retention.ms": "-1",
        "log.retention.bytes": "-1",
        # As the embedded broker: a topic declared with --retention loses its expired
        # segments within 5 s, not Kafka's default 5 min (notebook 06 waits for it).
        "log.retention.check.interval.ms": "5000",
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())


def write_configs(layout: ClusterLayout, nodes: list[int], ports: Mapping[str, int]) -> None:
    for node in nodes:
        home = layout.kafka_node(node)
        plain, controller = ports[f"kafka_{node}"], ports[f"kafka_{node}_controller"]
        # The embedded broker's files (folders, log4j), then this node's own properties.
        kafka_broker.write_config(home, plain, controller)
        home.kafka_properties.write_text(server_properties(layout, node, ports))


def format_nodes(
    java: JavaRuntime, jars: JarSet, layout: ClusterLayout, nodes: list[int], cluster_id: str
) -> None:
    """Format each unformatted node's log directory, all at once (a JVM each)."""
    todo = [n for n in nodes if not kafka_broker.is_formatted(layout.kafka_node(n))]
    with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        done = [
            pool.submit(
                kafka_broker.format_storage, java, jars, layout.kafka_node(n), "256m", cluster_id
            )
            for n in todo
        ]
        for future in done:
            future.result()


def node_argv(java: JavaRuntime, jars: JarSet, layout: ClusterLayout, node: int,
              heap: str) -> list[str]:  # fmt: skip
    return kafka_broker.broker_argv(java, jars, layout.kafka_node(node), heap)


def marks(layout: ClusterLayout, node: int) -> tuple[str, ...]:
    """Arguments only this cluster's node ``node`` has on its command line."""
    return (kafka_broker.MAIN_CLASS, str(layout.kafka_node(node).kafka_properties))


def node_answers(ports: Mapping[str, int], node: int, timeout: float = 3.0) -> bool:
    """True when node ``node`` itself answers a metadata request and lists itself.

    Its own listener is the client's only bootstrap address, so an answer is from this
    process: a node killed and started again is not taken for healthy while the others
    still list it (until its session times out)."""
    from confluent_kafka.admin import AdminClient

    own = f"{HOST}:{ports[f'kafka_{node}']}"
    if not _listening(own):
        return False  # don't let librdkafka log refused connections
    config: dict[str, Any] = {
        "bootstrap.servers": own,
        "socket.timeout.ms": int(timeout * 1000),
        "logger": _SILENT,
    }
    try:
        metadata = AdminClient(config).list_topics(timeout=timeout)
    except Exception:  # KafkaException and transport errors alike mean "not yet"
        return False
    return node in {int(b) for b in metadata.brokers}


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1.0).close()
    except OSError:
        return False
    return True
