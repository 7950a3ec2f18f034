"""What a profile says: where Kafka, Flink and the Iceberg catalog of a cluster are, and
how to reach them. Plain data; `kappanb.profiles.load` reads it from the file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kappanb.profiles.secrets import Secret

ProfileKind = Literal["embedded", "external"]
StateBackend = Literal["rocksdb", "hashmap"]

EMBEDDED = "embedded"
"""The profile of the stack kappanb starts on this machine (the default)."""


@dataclass(frozen=True)
class KafkaConfig:
    """The Kafka cluster: brokers, and client properties in librdkafka's names (as
    confluent-kafka takes them); `java_properties` gives Flink's Kafka client the same."""

    bootstrap_servers: str
    properties: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, Secret] = field(default_factory=dict)

    def client_config(self) -> dict[str, str]:
        """For confluent-kafka: brokers, properties and the secrets' values."""
        revealed = {k: s.reveal() for k, s in self.secrets.items()}
        return {"bootstrap.servers": self.bootstrap_servers, **self.properties, **revealed}

    def java_properties(self) -> dict[str, str]:
        """The same connection for a Java Kafka client (Flink's source and sink): SASL
        username and password become a JAAS line, a PEM CA file a PEM truststore."""
        config = {k: v for k, v in self.client_config().items() if k != "bootstrap.servers"}
        user, password = config.pop("sasl.username", None), config.pop("sasl.password", None)
        mechanism = config.get("sasl.mechanism", "PLAIN").upper()
        if user is not None and password is not None:
            module = (
                "org.apache.kafka.common.security.plain.PlainLoginModule"
                if mechanism == "PLAIN"
                else "org.apache.kafka.common.security.scram.ScramLoginModule"
            )
            config["sasl.jaas.config"] = (
                f'{module} required username="{_jaas(user)}" password="{_jaas(password)}";'
            )
        if "ssl.ca.location" in config:
            config["ssl.truststore.type"] = "PEM"
            config["ssl.truststore.location"] = config.pop("ssl.ca.location")
        return config


def _jaas(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


@dataclass(frozen=True)
class FlinkConfig:
    """A Flink session cluster, and storage every TaskManager reaches for state."""

    rest_url: str
    checkpoints: str
    """A directory URI, e.g. ``s3://bucket/kappanb/checkpoints``."""
    savepoints: str
    state_backend: StateBackend = "rocksdb"
    """RocksDB (incremental checkpoints) lets state outgrow a TaskManager's heap."""
    properties: Mapping[str, str] = field(default_factory=dict)
    """Flink configuration passed with every job (e.g. ``s3.endpoint``)."""
    secrets: Mapping[str, Secret] = field(default_factory=dict)


@dataclass(frozen=True)
class IcebergConfig:
    """An Iceberg REST catalog over object storage (properties in Iceberg's names:
    ``s3.endpoint``, ``s3.path-style-access``, ``s3.region``, ``s3.access-key-id``...)."""

    uri: str
    warehouse: str
    properties: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, Secret] = field(default_factory=dict)

    def catalog_properties(self) -> dict[str, str]:
        """For pyiceberg's REST catalog and Flink's Iceberg catalog alike."""
        revealed = {k: s.reveal() for k, s in self.secrets.items()}
        return {"uri": self.uri, "warehouse": self.warehouse, **self.properties, **revealed}


@dataclass(frozen=True)
class Profile:
    """One named way to reach a stack."""

    name: str
    kind: ProfileKind
    home: Path
    """Where kappanb keeps its own files for this profile (registry, dead-letter tallies)."""
    source: str = "defaults"
    """The file the profile came from, for messages."""
    kafka: KafkaConfig | None = None
    flink: FlinkConfig | None = None
    iceberg: IcebergConfig | None = None

    @property
    def secrets(self) -> dict[str, Secret]:
        """Every secret of the profile, by where it is used (for redaction)."""
        found: dict[str, Secret] = {}
        for section, part in (("kafka", self.kafka), ("flink", self.flink),
                              ("iceberg", self.iceberg)):  # fmt: skip
            if part is not None:
                found.update({f"{section}.{k}": s for k, s in part.secrets.items()})
        return found
