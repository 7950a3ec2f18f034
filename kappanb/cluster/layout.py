"""Where every file of one local cluster lives. Paths only, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kappanb.stack.layout import HomeLayout

KAFKA_NODES = (1, 2, 3)
TASKMANAGERS = (1, 2)
OBJECT_STORE = "seaweedfs"
JOBMANAGER = "flink-jobmanager"


def kafka_service(node: int) -> str:
    return f"kafka-{node}"


def taskmanager_service(number: int) -> str:
    return f"flink-taskmanager-{number}"


SERVICES: tuple[str, ...] = (
    OBJECT_STORE,
    *(kafka_service(n) for n in KAFKA_NODES),
    JOBMANAGER,
    *(taskmanager_service(n) for n in TASKMANAGERS),
)
"""In the order `up` starts them (`down` stops them in the reverse order)."""

PROFILE_NAME = "local-cluster"
STATE_BUCKET = "state"
"""The ordinary bucket for Flink's checkpoints and savepoints."""
WAREHOUSE_BUCKET = "warehouse"
"""The table bucket of the Iceberg REST catalog (``s3://warehouse``)."""


@dataclass(frozen=True)
class ClusterLayout:
    """The folders and files under a local cluster's home."""

    home: Path

    @property
    def state_file(self) -> Path:
        """Ports chosen and the Kafka cluster id, kept across down/up."""
        return self.home / "cluster.json"

    @property
    def profile_file(self) -> Path:
        """The profile file `up` writes (profile ``local-cluster``)."""
        return self.home / "profile.yaml"

    @property
    def secrets_dir(self) -> Path:
        """The password and keys, one 0600 file each, in a 0700 folder."""
        return self.home / "secrets"

    @property
    def kafka_password(self) -> Path:
        return self.secrets_dir / "kafka-password"

    @property
    def s3_access_key(self) -> Path:
        return self.secrets_dir / "s3-access-key-id"

    @property
    def s3_secret_key(self) -> Path:
        return self.secrets_dir / "s3-secret-access-key"

    @property
    def catalog_credential(self) -> Path:
        """``ACCESS:SECRET``, the REST catalog's OAuth2 client credential."""
        return self.secrets_dir / "iceberg-credential"

    @property
    def processes(self) -> HomeLayout:
        """The embedded stack's layout of the same folder: its run/ (pid files, the lock)
        and logs/ are the cluster's, and so is flink/ (conf, lib, tmp)."""
        return HomeLayout(self.home)

    @property
    def run_dir(self) -> Path:
        return self.processes.run_dir

    def pid_file(self, service: str) -> Path:
        return self.processes.pid_file(service)

    @property
    def logs_dir(self) -> Path:
        return self.processes.logs_dir

    def console_log(self, service: str) -> Path:
        return self.processes.console_log(service)

    def kafka_node(self, node: int) -> HomeLayout:
        """One Kafka node's files (``kafka-N/kafka/server.properties``, its data, its logs),
        laid out as the embedded broker's, so that its helpers write and format them."""
        return HomeLayout(self.home / kafka_service(node))

    @property
    def object_store_dir(self) -> Path:
        """SeaweedFS's data (buckets, the catalog's metadata)."""
        return self.home / OBJECT_STORE

    @property
    def object_store_logs(self) -> Path:
        return self.logs_dir / OBJECT_STORE

    @property
    def flink_plugins(self) -> Path:
        """FLINK_PLUGINS_DIR: ``s3-fs-hadoop/`` with the S3 file system plugin."""
        return self.processes.flink_dir / "plugins"
