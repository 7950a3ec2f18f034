"""Which registry a stack has: the one place that decides between the two.

The embedded stack, and a cluster profile with ``registry: local``, keep the registry in a
SQLite file in the home (`store.LocalRegistry`): everyone on this machine shares it. A
cluster profile (``registry: kafka``, its default) keeps it on the cluster's Kafka
(`shared.LogRegistry`): everyone who reaches the cluster shares it, and this machine
keeps a cache of it beside the home's other files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.base import Registry
from kappanb.registry.log import REGISTRY_TOPIC, RegistryLog
from kappanb.registry.shared import LEASE_SECONDS, LogRegistry
from kappanb.registry.store import LocalRegistry


@dataclass(frozen=True)
class RegistryLogPlace:
    """Where a cluster's registry lives: a topic of its Kafka, and the lease of a job lock."""

    kafka: KafkaConnection
    topic: str = REGISTRY_TOPIC
    lease_seconds: float = LEASE_SECONDS


def open_registry(db: Path, log: RegistryLogPlace | None = None) -> Registry:
    """The registry in the SQLite file ``db``, or, with ``log``, the one on that Kafka log
    with ``db`` as this machine's cache of it. Asks no service (the log's registry reaches
    Kafka on first use)."""
    if log is None:
        return LocalRegistry(db)
    return LogRegistry(RegistryLog(log.kafka, log.topic), db, log.lease_seconds)
