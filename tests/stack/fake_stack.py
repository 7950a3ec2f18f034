"""A stack without services or I/O, for tests of the API's own logic (no Java, no Kafka).

It implements `kappanb.stack.base.Stack`: its health is whatever the test sets, and it
counts how often it was asked, started and stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from kappanb.kafka.connection import KafkaConnection
from kappanb.settings import StackSettings
from kappanb.stack.base import Say, StackPlaces
from kappanb.stack.endpoints import Endpoints
from kappanb.stack.status import DownResult, ServiceStatus, StackStatus, UpResult
from kappanb.tables.catalog import CatalogLocation

SERVICES = ("kafka", "flink-jobmanager", "flink-taskmanager")


@dataclass
class FakeStack:
    """Services that are "running" or "stopped" as the test says."""

    home: Path
    states: dict[str, str] = field(default_factory=lambda: dict.fromkeys(SERVICES, "stopped"))
    task_slots: int = 4
    calls: dict[str, int] = field(default_factory=dict)

    def _count(self, what: str) -> None:
        self.calls[what] = self.calls.get(what, 0) + 1

    @property
    def settings(self) -> StackSettings:
        return StackSettings(home=self.home, task_slots=self.task_slots)

    @property
    def profile(self) -> str:
        return "fake"

    @property
    def places(self) -> StackPlaces:
        return StackPlaces(
            home=self.home,
            registry_db=self.home / "registry.sqlite",
            dead_letter_tallies=self.home / "dead-letters",
            checkpoints=(self.home / "checkpoints").as_uri(),
            savepoints=(self.home / "savepoints").as_uri(),
        )

    def endpoints(self) -> Endpoints:
        self._count("endpoints")
        return Endpoints(
            kafka=KafkaConnection.plain("fake-kafka:9092"),
            flink_rest_url="http://fake-flink:8081",
            catalog=CatalogLocation("fake", self.home / "catalog.db", self.home / "warehouse"),
            flink_lib=self.home / "lib",
        )

    def status(self) -> StackStatus:
        self._count("status")
        return self._status()

    def _status(self) -> StackStatus:
        services = [
            ServiceStatus(name, state, pid=1 if state == "running" else None)
            for name, state in self.states.items()
        ]
        return StackStatus(str(self.home), services)

    def up(self, say: Say) -> UpResult:
        self._count("up")
        started = [name for name, state in self.states.items() if state != "running"]
        self.states = dict.fromkeys(self.states, "running")
        return UpResult(self._status(), started=started)

    def down(self, say: Say) -> DownResult:
        self._count("down")
        outcomes = {
            n: "stopped" if s == "running" else "not running" for n, s in self.states.items()
        }
        self.states = dict.fromkeys(self.states, "stopped")
        return DownResult(outcomes, 0.0)

    def logs(self, service: str, lines: int = 50) -> str:
        return f"(no log: {service} is a fake)"

    def taskmanager(self, resource_id: str) -> ServiceStatus:
        return self._status().service("flink-taskmanager")

    def with_task_slots(self, slots: int) -> FakeStack:
        return replace(self, task_slots=slots)
