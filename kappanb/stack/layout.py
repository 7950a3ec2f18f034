"""Where every file of one kappanb home lives. Paths only, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SERVICES = ("kafka", "flink-jobmanager", "flink-taskmanager")


@dataclass(frozen=True)
class HomeLayout:
    """The folders and files under ``KAPPANB_HOME``."""

    home: Path

    @property
    def state_file(self) -> Path:
        """Ports chosen and the Kafka cluster id, kept across down/up."""
        return self.home / "stack.json"

    @property
    def registry_db(self) -> Path:
        """kappanb's memory of topics, jobs, versions and runs (SQLite)."""
        return self.home / "registry.sqlite"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def lock_file(self) -> Path:
        return self.run_dir / "stack.lock"

    def pid_file(self, service: str) -> Path:
        return self.run_dir / f"{service}.pid"

    @property
    def dead_letter_tallies(self) -> Path:
        """Per dead-letter topic, what `status` has counted of it (rebuilt if deleted)."""
        return self.home / "dead-letters"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    def console_log(self, service: str) -> Path:
        """What the process writes to stdout/stderr (the Kafka log itself)."""
        return self.logs_dir / f"{service}.log"

    def flink_log_dir(self, service: str) -> Path:
        return self.logs_dir / service

    @property
    def kafka_dir(self) -> Path:
        return self.home / "kafka"

    @property
    def kafka_data(self) -> Path:
        """The log: the system of record. Never deleted by kappanb."""
        return self.kafka_dir / "data"

    @property
    def kafka_properties(self) -> Path:
        return self.kafka_dir / "server.properties"

    @property
    def kafka_log4j(self) -> Path:
        return self.kafka_dir / "log4j2.properties"

    @property
    def flink_dir(self) -> Path:
        return self.home / "flink"

    @property
    def flink_conf(self) -> Path:
        return self.flink_dir / "conf"

    @property
    def flink_lib(self) -> Path:
        return self.flink_dir / "lib"

    @property
    def flink_checkpoints(self) -> Path:
        return self.flink_dir / "checkpoints"

    @property
    def flink_savepoints(self) -> Path:
        return self.flink_dir / "savepoints"

    @property
    def flink_job_archive(self) -> Path:
        """Where the JobManager archives each job that ended (``jobmanager.archive.fs.dir``)."""
        return self.flink_dir / "completed-jobs"

    @property
    def flink_tmp(self) -> Path:
        return self.flink_dir / "tmp"

    @property
    def iceberg_dir(self) -> Path:
        return self.home / "iceberg"

    @property
    def catalog_db(self) -> Path:
        return self.iceberg_dir / "catalog.db"

    @property
    def warehouse(self) -> Path:
        return self.iceberg_dir / "warehouse"
