"""What a profile says: where Kafka, Flink and the Iceberg catalog of a cluster are, and
how to reach them. Plain data; `kappanb.profiles.load` reads it from the file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kappanb.core.secrets import Secret
from kappanb.kafka.connection import KafkaConnection

ProfileKind = Literal["embedded", "external"]
StateBackend = Literal["rocksdb", "hashmap"]
RegistryKind = Literal["kafka", "local"]
"""Where a cluster profile's registry lives: a topic of its Kafka, shared by everyone on
the cluster (the default), or a SQLite file in this machine's home."""

EMBEDDED = "embedded"
"""The profile of the stack kappanb starts on this machine (the default)."""


KafkaConfig = KafkaConnection
"""The Kafka cluster of a profile: the very connection every client is made with
(`kappanb.kafka.connection`), brokers, properties in librdkafka's names, and secrets."""


@dataclass(frozen=True)
class FlinkConfig:
    """A Flink session cluster, and storage every TaskManager reaches for state."""

    rest_url: str
    checkpoints: str
    """A directory URI, e.g. ``s3://bucket/kappanb/checkpoints``."""
    savepoints: str
    job_archive: str | None = None
    """The cluster's ``jobmanager.archive.fs.dir``, when it keeps one: a run that ended before
    a JobManager restart is then known as ended, not lost."""
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
    registry: RegistryKind = "kafka"
    """Where the registry lives on an external profile (`RegistryKind`)."""
    local_cluster: Path | None = None
    """The home of the kappanb local cluster this profile reaches (`kappanb cluster up`
    writes it): `up` then starts what of that cluster is stopped. None: a cluster kappanb
    does not run, whose processes it neither starts nor knows."""

    @property
    def secrets(self) -> dict[str, Secret]:
        """Every secret of the profile, by where it is used (for redaction)."""
        found: dict[str, Secret] = {}
        for section, part in (("kafka", self.kafka), ("flink", self.flink),
                              ("iceberg", self.iceberg)):  # fmt: skip
            if part is not None:
                found.update({f"{section}.{k}": s for k, s in part.secrets.items()})
        return found
