"""The local cluster's health: what each service says of itself now, asked once for all
(one metadata request for the three Kafka nodes, one REST call for the TaskManagers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kappanb.cluster import flink_nodes, kafka_nodes, object_store
from kappanb.cluster.layout import (
    JOBMANAGER,
    KAFKA_NODES,
    OBJECT_STORE,
    TASKMANAGERS,
    kafka_service,
    taskmanager_service,
)
from kappanb.stack.ports import HOST


@dataclass(frozen=True)
class Health:
    """One look at every service (asked only of those whose process runs)."""

    brokers: frozenset[int]
    """The Kafka nodes that answer themselves."""
    taskmanagers: Mapping[str, str]
    """Resource id -> RPC address of each TaskManager registered."""
    jobmanager: bool
    object_store: bool

    @classmethod
    def ask(cls, ports: Mapping[str, int], running: set[str]) -> Health:
        jm = JOBMANAGER in running and flink_nodes.jobmanager_healthy(ports)
        return cls(
            brokers=frozenset(
                n
                for n in KAFKA_NODES
                if kafka_service(n) in running and kafka_nodes.node_answers(ports, n)
            ),
            taskmanagers=flink_nodes.registered_taskmanagers(ports) if jm else {},
            jobmanager=jm,
            object_store=OBJECT_STORE in running and object_store.healthy(ports),
        )

    def healthy(self, service: str) -> bool:
        if service == OBJECT_STORE:
            return self.object_store
        if service == JOBMANAGER:
            return self.jobmanager
        for node in KAFKA_NODES:
            if service == kafka_service(node):
                return node in self.brokers
        if service in (taskmanager_service(n) for n in TASKMANAGERS):
            return flink_nodes.resource_id(service) in self.taskmanagers
        return False


def address(service: str, ports: Mapping[str, int]) -> str:
    """Where a service is reached, for its status line."""
    if service == OBJECT_STORE:
        return f"S3 {object_store.s3_url(ports)}, catalog {object_store.catalog_url(ports)}"
    if service == JOBMANAGER:
        return flink_nodes.rest_url(ports)
    for node in KAFKA_NODES:
        if service == kafka_service(node):
            sasl, plain = ports[f"kafka_{node}_sasl"], ports[f"kafka_{node}"]
            return f"{HOST}:{sasl} SASL_PLAINTEXT, {HOST}:{plain} PLAINTEXT"
    return flink_nodes.resource_id(service)
