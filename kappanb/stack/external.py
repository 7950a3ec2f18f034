"""A cluster kappanb does not run, chosen by a profile: Kafka brokers, a Flink session
cluster, an Iceberg REST catalog. kappanb finds and checks its services; it starts and
stops none of them (`up` and `down` say so). The one exception is kappanb's own local
cluster, whose profile names its home (``local_cluster``): `up` starts what of it is
stopped, and its TaskManagers' processes are known (`taskmanager`); `down` stops nothing
there either, as the cluster is shared (`kappanb cluster down` stops it).

`status` names each service with what it says of itself: the Kafka cluster id and its
brokers, the Flink version with its TaskManagers and free task slots, the catalog's
answer. A service that does not answer, refuses the credentials, or runs a version
kappanb does not support is unhealthy, with the reason and the address. No secret
appears in what `status` says (`kappanb.core.secrets.redact`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from kappanb.core.secrets import redact
from kappanb.exceptions import SettingsError, UnknownProcessError
from kappanb.profiles.model import FlinkConfig, IcebergConfig, KafkaConfig, Profile
from kappanb.registry.open import RegistryLogPlace
from kappanb.settings import StackSettings
from kappanb.stack.base import Say, StackPlaces
from kappanb.stack.checkpoints import StateStorage
from kappanb.stack.client_lib import client_jars
from kappanb.stack.endpoints import Endpoints
from kappanb.stack.status import DownResult, ServiceStatus, StackStatus, UpResult
from kappanb.tables.rest_catalog import RestCatalogLocation

SUPPORTED_FLINK = "2.0"
"""The Flink line kappanb's jobs are built for (connectors, SQL, the REST API)."""
TIMEOUT = 5.0


class ExternalStack:
    """The services a profile names; kappanb keeps only its own files (``profile.home``)."""

    def __init__(self, profile: Profile, settings: StackSettings | None = None) -> None:
        if profile.kafka is None or profile.flink is None or profile.iceberg is None:
            raise ValueError(f"profile {profile.name!r} is not an external one")
        self.config = profile
        self.kafka: KafkaConfig = profile.kafka
        self.flink: FlinkConfig = profile.flink
        self.iceberg: IcebergConfig = profile.iceberg
        self._settings = settings or StackSettings.from_env(home=profile.home)
        self._endpoints: Endpoints | None = None

    @property
    def settings(self) -> StackSettings:
        return self._settings

    @property
    def profile(self) -> str:
        return self.config.name

    @property
    def places(self) -> StackPlaces:
        """kappanb's own files in the profile's home; checkpoints and savepoints where the
        profile says every TaskManager reaches them."""
        home, shared = self.config.home, self.config.registry == "kafka"
        return StackPlaces(
            home=home,
            # the cache of the cluster's log is never the file of a local registry
            registry_db=home / ("registry-cache.sqlite" if shared else "registry.sqlite"),
            registry_log=RegistryLogPlace(self.kafka) if shared else None,
            dead_letter_tallies=home / "dead-letters",
            checkpoints=self.flink.checkpoints,
            savepoints=self.flink.savepoints,
            job_archive=self.flink.job_archive,
        )

    def endpoints(self) -> Endpoints:
        """The profile's services. The first call resolves the jobs' jars (Maven, javac)
        when the per-user caches lack them; later ones read local files only."""
        if self._endpoints is None:
            jars = client_jars(self._settings, self.config.home)
            iceberg = self.iceberg
            catalog = RestCatalogLocation(
                self._settings.catalog_name, iceberg.uri, iceberg.warehouse,
                dict(iceberg.properties), dict(iceberg.secrets),
            )  # fmt: skip
            self._endpoints = Endpoints(
                kafka=self.kafka,
                flink_rest_url=self.flink.rest_url.rstrip("/"),
                catalog=catalog,
                flink_lib=jars.lib,
                job_config=job_config(self.flink),
                job_jars=jars.shipped,
                state=StateStorage(dict(self.flink.properties), dict(self.flink.secrets)),
                flink_secrets=dict(self.flink.secrets),
            )
        return self._endpoints

    # ---- up, down, logs: the cluster is not kappanb's ---------------------------------
    def up(self, say: Say) -> UpResult:
        """Starts nothing; on kappanb's own local cluster (``local_cluster``), what of it is
        stopped (as `kappanb cluster up`: what runs is left alone)."""
        if self.config.local_cluster is None:
            say(f"profile {self.config.name}: the cluster runs without kappanb; "
                "`up` starts nothing")  # fmt: skip
            status = self.status()
            return UpResult(status, already_running=[s.name for s in status.services if s.healthy])
        from kappanb.cluster.attached import AttachedCluster  # only for kappanb's own cluster

        done = AttachedCluster(self.config.local_cluster).up(say)
        return UpResult(self.status(), done.started, done.already_running, done.notes,
                        done.seconds)  # fmt: skip

    def down(self, say: Say) -> DownResult:
        say(f"profile {self.config.name}: the cluster runs without kappanb; `down` stops nothing")
        return DownResult({s: "not kappanb's to stop" for s in ("kafka", "flink", "catalog")})

    def logs(self, service: str, lines: int = 50) -> str:
        return (
            f"{service} runs on the cluster of profile {self.config.name}, not under kappanb: "
            "its logs are where that cluster keeps them"
        )

    def taskmanager(self, resource_id: str) -> ServiceStatus:
        """Only on kappanb's own local cluster; any other cluster's processes are not
        kappanb's to know."""
        if self.config.local_cluster is None:
            raise UnknownProcessError(
                f"profile {self.config.name}: TaskManager {resource_id} runs on a cluster "
                "kappanb does not run, and kappanb knows no process of it (ask that "
                "cluster's operators, or its Flink web UI)"
            )
        from kappanb.cluster.attached import AttachedCluster

        return AttachedCluster(self.config.local_cluster).taskmanager(resource_id)

    def with_task_slots(self, slots: int) -> ExternalStack:
        raise SettingsError(
            f"profile {self.config.name}: the cluster's task slots are set where it runs, "
            "not by `up --slots`"
        )

    # ---- status ----------------------------------------------------------------------
    def status(self) -> StackStatus:
        checks: list[tuple[str, str, Callable[[], str]]] = [
            ("kafka", self.kafka.bootstrap_servers, self._kafka),
            ("flink", self.flink.rest_url, self._flink),
            ("catalog", self.iceberg.uri, self._catalog),
        ]
        services = []
        for name, address, check in checks:
            try:
                detail, state = check(), "running"
            except ServiceProblem as problem:
                detail, state = str(problem), "unhealthy"
            except Exception as exc:  # a client's own error: say it, never raise from status
                detail, state = f"{type(exc).__name__}: {exc}", "unhealthy"
            detail = redact(detail, self.config.secrets)
            web_ui = self.flink.rest_url if name == "flink" else ""
            services.append(ServiceStatus(name, state, address, web_ui=web_ui, detail=detail))
        return StackStatus(
            f"{self.config.home} (profile {self.config.name})", services, managed=False
        )

    def _kafka(self) -> str:
        from confluent_kafka.admin import AdminClient

        config: dict[str, Any] = {**self.kafka.client_config(), "socket.timeout.ms": 5000}
        config["logger"] = _SilentLogger()
        admin = AdminClient(config)
        try:
            cluster = admin.describe_cluster(request_timeout=TIMEOUT).result(timeout=TIMEOUT + 1)
        except Exception as exc:
            raise ServiceProblem(
                f"no answer from the brokers at {self.kafka.bootstrap_servers} ({exc}): check "
                "the addresses, the network, and the profile's security settings and secrets"
            ) from None
        return f"cluster {cluster.cluster_id}, {len(cluster.nodes)} broker(s)"

    def _flink(self) -> str:
        base = self.flink.rest_url.rstrip("/")
        try:
            config, overview = _get_json(f"{base}/config"), _get_json(f"{base}/overview")
        except (OSError, ValueError) as exc:
            raise ServiceProblem(
                f"no answer from Flink's REST API at {self.flink.rest_url} ({exc}): check "
                "the address and that the JobManager runs"
            ) from None
        version = str(config.get("flink-version", "?"))
        if not (version == SUPPORTED_FLINK or version.startswith(SUPPORTED_FLINK + ".")):
            raise ServiceProblem(
                f"Flink {version} at {self.flink.rest_url}: kappanb's jobs need Flink "
                f"{SUPPORTED_FLINK}.x; point the profile at a {SUPPORTED_FLINK} session cluster"
            )
        managers, free = overview.get("taskmanagers", 0), overview.get("slots-available", 0)
        total = overview.get("slots-total", 0)
        return f"Flink {version}, {managers} TaskManager(s), {free} of {total} task slots free"

    def _catalog(self) -> str:
        properties = self.iceberg.catalog_properties()
        url = f"{self.iceberg.uri.rstrip('/')}/v1/config"
        if self.iceberg.warehouse:
            url += "?warehouse=" + urllib.parse.quote(self.iceberg.warehouse, safe="")
        request = urllib.request.Request(url)
        if token := properties.get("token"):
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                json.load(answer)
        except urllib.error.HTTPError as exc:
            hint = "check the profile's catalog credentials" if exc.code in (401, 403) else (
                "is it an Iceberg REST catalog?")  # fmt: skip
            raise ServiceProblem(
                f"the catalog at {self.iceberg.uri} answered HTTP {exc.code}: {hint}"
            ) from None
        except (OSError, ValueError) as exc:
            raise ServiceProblem(
                f"no answer from the Iceberg REST catalog at {self.iceberg.uri} ({exc}): "
                "check the address and that the catalog runs"
            ) from None
        return f"Iceberg REST catalog, warehouse {self.iceberg.warehouse}"


def job_config(flink: FlinkConfig) -> dict[str, str]:
    """What every job carries to the profile's cluster: its state on the profile's storage,
    in the profile's state backend (RocksDB: incremental checkpoints), then the profile's
    own Flink properties. The profile's Flink secrets are never sent: a job's configuration
    is shown by Flink's REST API and web UI, and the cluster's file systems are set up
    where it runs."""
    config = {
        "execution.checkpointing.dir": flink.checkpoints,
        "execution.checkpointing.savepoint-dir": flink.savepoints,
        "state.backend.type": flink.state_backend,
    }
    if flink.state_backend == "rocksdb":
        config["execution.checkpointing.incremental"] = "true"
    return {**config, **flink.properties}


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
        data = json.load(answer)
    if not isinstance(data, dict):
        raise ValueError(f"{url} did not answer with a JSON object")
    return data


class ServiceProblem(Exception):
    """What is wrong with one service, for its status line."""


class _SilentLogger:
    """librdkafka's log lines would repeat what the status line says."""

    def log(self, *_args: Any, **_kwargs: Any) -> None:
        pass
