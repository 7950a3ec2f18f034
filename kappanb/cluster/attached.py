"""kappanb's local cluster as a profile reaches it (``local_cluster`` in the profile that
`kappanb cluster up` writes): the external stack asks here for what only a cluster kappanb
runs can give, starting what of it is stopped and the processes of its TaskManagers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kappanb.cluster.flink_nodes import resource_id
from kappanb.cluster.layout import TASKMANAGERS, taskmanager_service
from kappanb.cluster.local import LocalCluster
from kappanb.cluster.results import ClusterUpResult
from kappanb.exceptions import UnknownProcessError
from kappanb.stack.status import ServiceStatus

Say = Callable[[str], None]


class AttachedCluster:
    """The local cluster whose home is ``home``, as seen from its profile."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def up(self, say: Say) -> ClusterUpResult:
        """Start what of the cluster is stopped (what runs is left alone: idempotent)."""
        return LocalCluster(self.home).up(say)

    def taskmanager(self, resource: str) -> ServiceStatus:
        """The process of the TaskManager Flink knows as ``resource`` (with its pid)."""
        names = {resource_id(taskmanager_service(n)): taskmanager_service(n) for n in TASKMANAGERS}
        if resource not in names:
            raise UnknownProcessError(
                f"TaskManager {resource!r} is none of the local cluster's in {self.home} "
                f"({', '.join(names)}): kappanb knows no process of it"
            )
        cluster, service = LocalCluster(self.home), names[resource]
        records = cluster.processes.running(service)  # no health check: only the process
        if not records:
            raise UnknownProcessError(
                f"{service} of the local cluster in {self.home} is not running"
            )
        return ServiceStatus(service, "running", pid=records[0].pid,
                             log_file=str(cluster.log_file(service)))  # fmt: skip
