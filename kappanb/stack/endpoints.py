"""Addresses of the stack's services, as the thin clients need them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kappanb.kafka.connection import KafkaConnection
from kappanb.stack.layout import HomeLayout
from kappanb.stack.ports import HOST
from kappanb.tables.catalog import CatalogLocation


@dataclass(frozen=True)
class Endpoints:
    """Where to reach Kafka, Flink and the Iceberg catalog. Its repr shows no secret
    (`KafkaConnection`'s own shows where each comes from)."""

    kafka: KafkaConnection
    """Brokers, client properties and secrets: every Kafka client and Flink Kafka table."""
    flink_rest_url: str
    catalog: CatalogLocation
    flink_lib: Path
    """Jars a Flink SQL client needs on its classpath (the cluster's own lib/)."""

    @property
    def bootstrap_servers(self) -> str:
        """The brokers' addresses, for messages and status (clients take `kafka`)."""
        return self.kafka.bootstrap_servers

    def job_url(self, job_id: str) -> str:
        """The Flink web UI page of a job."""
        return f"{self.flink_rest_url}/#/job/running/{job_id}"

    def redact(self, text: str) -> str:
        """``text`` without the secrets of these endpoints (generated SQL, error messages)."""
        return self.kafka.redact(text)

    @classmethod
    def for_home(cls, layout: HomeLayout, ports: Mapping[str, int], catalog_name: str) -> Endpoints:
        return cls(
            kafka=KafkaConnection.plain(f"{HOST}:{ports['kafka']}"),
            flink_rest_url=f"http://{HOST}:{ports['flink_rest']}",
            catalog=CatalogLocation(catalog_name, layout.catalog_db, layout.warehouse),
            flink_lib=layout.flink_lib,
        )
