"""The single-node Kafka broker in KRaft mode (broker and controller in one JVM)."""

from __future__ import annotations

import base64
import logging
import os
import socket
import subprocess
import uuid
from typing import Any

from kappanb.exceptions import ServiceStartError
from kappanb.stack.jars import JarSet
from kappanb.stack.java import JavaRuntime
from kappanb.stack.layout import HomeLayout
from kappanb.stack.logtail import relevant_lines
from kappanb.stack.ports import HOST

NODE_ID = 1
MAIN_CLASS = "kafka.Kafka"
_SILENT = logging.getLogger("kappanb.librdkafka.healthcheck")
_SILENT.addHandler(logging.NullHandler())
_SILENT.propagate = False

_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
"""


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, base64url without padding.

    Like Kafka's own ``Uuid.randomUuid()``, never one starting with '-': the storage
    tool's command line would take it for an option (about one id in 64).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def server_properties(layout: HomeLayout, port: int, controller_port: int) -> str:
    """The broker's configuration. The log is the system of record: nothing expires."""
    props = {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        # A static voter set: the controller's address comes from this file, not
        # from the log, so a different port after a restart is harmless.
        "controller.quorum.voters": f"{NODE_ID}@{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(layout.kafka_data),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "log.retention.ms": "-1",
        "log.retention.bytes": "-1",
        # A topic declared with --retention loses its expired segments within 5 s, not
        # Kafka's default 5 min: `retention` then reports, and a replay from earliest is
        # refused, soon after records expire. Cheap on one local broker's few topics.
        "log.retention.check.interval.ms": "5000",
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())


def write_config(layout: HomeLayout, port: int, controller_port: int) -> None:
    layout.kafka_dir.mkdir(parents=True, exist_ok=True)
    layout.kafka_properties.write_text(server_properties(layout, port, controller_port))
    layout.kafka_log4j.write_text(_LOG4J2)


def is_formatted(layout: HomeLayout) -> bool:
    return (layout.kafka_data / "meta.properties").is_file()


def jvm_argv(java: JavaRuntime, jars: JarSet, layout: HomeLayout, heap: str) -> list[str]:
    return [
        str(java.executable),
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={layout.kafka_log4j}",
        f"-Dkafka.logs.dir={layout.logs_dir}",
        "-cp",
        os.pathsep.join(str(p) for p in jars.jars("kafka")),
    ]


def format_storage(
    java: JavaRuntime, jars: JarSet, layout: HomeLayout, heap: str, cluster_id: str
) -> None:
    """Format the log directory on first start (KRaft needs it); never on later starts."""
    layout.kafka_data.mkdir(parents=True, exist_ok=True)
    argv = [
        *jvm_argv(java, jars, layout, "256m"),
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster_id,
        "-c",
        str(layout.kafka_properties),
        "--ignore-formatted",
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        said = "\n".join(f"  {line}" for line in relevant_lines(proc.stdout + proc.stderr))
        raise ServiceStartError(f"formatting the Kafka log directory failed:\n{said}")


def broker_argv(java: JavaRuntime, jars: JarSet, layout: HomeLayout, heap: str) -> list[str]:
    return [*jvm_argv(java, jars, layout, heap), MAIN_CLASS, str(layout.kafka_properties)]


def broker_healthy(bootstrap: str, timeout: float = 2.0) -> bool:
    """True when the broker answers a metadata request and lists itself."""
    from confluent_kafka.admin import AdminClient

    host, _, port = bootstrap.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError:
        return False  # not listening yet: don't let librdkafka log refused connections
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "socket.timeout.ms": int(timeout * 1000),
        "logger": _SILENT,
    }
    admin = AdminClient(config)
    try:
        metadata = admin.list_topics(timeout=timeout)
    except Exception:  # KafkaException and transport errors alike mean "not yet"
        return False
    return NODE_ID in metadata.brokers
