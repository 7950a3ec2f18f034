"""The one interface through which the API reaches a stack.

`Workbench` is given a `Stack` (by default the embedded one, `EmbeddedStack`) and asks it
only what is here: where the services are (`endpoints`, no network I/O), whether they are
healthy (`status`, the health check: it asks every service), starting and stopping what
kappanb runs itself (`up`, `down`), and where kappanb keeps its own files beside them
(`places`). Another implementation (an existing cluster, a test's fake without I/O)
implements the same members; nothing above this module knows which one it has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kappanb.registry.open import RegistryLogPlace
from kappanb.settings import StackSettings
from kappanb.stack.endpoints import Endpoints
from kappanb.stack.status import DownResult, ServiceStatus, StackStatus, UpResult

Say = Callable[[str], None]


@dataclass(frozen=True)
class StackPlaces:
    """Where kappanb keeps what it writes beside a stack's services."""

    home: Path
    """The kappanb home: the folder shown in `status` and the panel."""
    registry_db: Path
    """Topics, jobs, versions, runs and switches (SQLite): the registry itself, or with
    ``registry_log`` this machine's cache of it."""
    dead_letter_tallies: Path
    """What `status` has counted of each dead-letter topic."""
    checkpoints: str
    """Where Flink writes the runs' checkpoints: a directory URI (``file://``, ``s3://``)
    kappanb lists through `Endpoints.state`."""
    savepoints: str
    """Where `stop --savepoint`, `down` and `retire` ask Flink to write savepoints (a URI)."""
    job_archive: str | None = None
    """Where the JobManager archives every job that ended (``jobmanager.archive.fs.dir``, a
    directory URI), so a run that ended before a JobManager restart is known as ended
    (None: the cluster keeps no archive kappanb can read)."""
    registry_log: RegistryLogPlace | None = None
    """The Kafka log holding the registry of a cluster shared by several machines (None:
    the registry is ``registry_db`` alone, on this machine)."""


class Stack(Protocol):
    """Kafka, a Flink cluster and an Iceberg catalog, as the API needs them."""

    @property
    def settings(self) -> StackSettings:
        """The settings the stack was made with (task slots, checkpoint interval, ...)."""
        ...

    @property
    def profile(self) -> str:
        """The name of the profile this stack is (``embedded`` for kappanb's own)."""
        ...

    @property
    def places(self) -> StackPlaces:
        """Where kappanb keeps its files for this stack (no I/O)."""
        ...

    def endpoints(self) -> Endpoints:
        """Addresses of the services. Cheap: reads local state only, asks no service."""
        ...

    def status(self) -> StackStatus:
        """The health check: asks each service whether it is running and answers."""
        ...

    def up(self, say: Say) -> UpResult:
        """Start what is not running (what this stack can start), then report status."""
        ...

    def down(self, say: Say) -> DownResult:
        """Stop what this stack started."""
        ...

    def logs(self, service: str, lines: int = 50) -> str:
        """The last ``lines`` lines of a service's log, or where to find them."""
        ...

    def taskmanager(self, resource_id: str) -> ServiceStatus:
        """The process (with its pid) of the TaskManager Flink knows as ``resource_id``;
        `UnknownProcessError` on a cluster whose processes kappanb does not know."""
        ...

    def with_task_slots(self, slots: int) -> Stack:
        """The same stack, to be started with ``slots`` task slots (or why it cannot be)."""
        ...
