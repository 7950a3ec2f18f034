"""Addresses of the stack's services, as the thin clients need them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kappanb.core.secrets import Secret, redact
from kappanb.kafka.connection import KafkaConnection
from kappanb.stack.checkpoints import StateStorage
from kappanb.stack.layout import HomeLayout
from kappanb.stack.ports import HOST
from kappanb.tables.catalog import Catalog, CatalogLocation


@dataclass(frozen=True)
class Endpoints:
    """Where to reach Kafka, Flink and the Iceberg catalog. Its repr shows no secret
    (`KafkaConnection`'s and `Secret`'s own show where each comes from)."""

    kafka: KafkaConnection
    """Brokers, client properties and secrets: every Kafka client and Flink Kafka table."""
    flink_rest_url: str
    catalog: Catalog
    """The SQLite JDBC catalog (embedded) or an Iceberg REST catalog (a cluster profile)."""
    flink_lib: Path
    """Jars a Flink SQL client needs on its classpath (the embedded cluster's own lib/, or
    the one kappanb builds for a profile's client)."""
    job_config: Mapping[str, str] = field(default_factory=dict)
    """Flink configuration every job carries (state backend, the profile's properties)."""
    job_jars: tuple[Path, ...] = ()
    """Jars shipped with every job (``pipeline.jars``): none when the cluster has them."""
    state: StateStorage = field(default_factory=StateStorage)
    """How kappanb lists the checkpoint directories (file:// or s3://)."""
    flink_secrets: Mapping[str, Secret] = field(default_factory=dict)
    """The profile's Flink secrets: kept out of anything shown (never sent with a job)."""

    @property
    def bootstrap_servers(self) -> str:
        """The brokers' addresses, for messages and status (clients take `kafka`)."""
        return self.kafka.bootstrap_servers

    @property
    def secrets(self) -> dict[str, Secret]:
        """Every secret these endpoints hold (Kafka, the catalog, Flink's storage)."""
        return {
            **{f"kafka.{k}": s for k, s in self.kafka.secrets.items()},
            **{f"iceberg.{k}": s for k, s in self.catalog.secrets.items()},
            **{f"flink.{k}": s for k, s in self.flink_secrets.items()},
        }

    def __hash__(self) -> int:  # the mappings are not hashable; what they name is
        return hash((self.kafka, self.flink_rest_url, self.catalog.name, self.flink_lib))

    def job_url(self, job_id: str) -> str:
        """The Flink web UI page of a job."""
        return f"{self.flink_rest_url}/#/job/running/{job_id}"

    def redact(self, text: str) -> str:
        """``text`` without the secrets of these endpoints (generated SQL, error messages)."""
        return redact(self.kafka.redact(text), self.secrets)

    @classmethod
    def for_home(cls, layout: HomeLayout, ports: Mapping[str, int], catalog_name: str) -> Endpoints:
        return cls(
            kafka=KafkaConnection.plain(f"{HOST}:{ports['kafka']}"),
            flink_rest_url=f"http://{HOST}:{ports['flink_rest']}",
            catalog=CatalogLocation(catalog_name, layout.catalog_db, layout.warehouse),
            flink_lib=layout.flink_lib,
        )
