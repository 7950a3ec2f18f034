"""Submit Flink SQL to the session cluster and get the job id back without waiting for it.

The client is PyFlink's Java gateway in this process, with a lib/ of kappanb's on its
classpath (so the Kafka and Iceberg factories resolve while planning) and a
RemoteStreamEnvironment pointed at the cluster's REST address. On the embedded stack that
lib/ is the cluster's own and nothing is shipped with a job; on a cluster profile the jars
a job needs that a plain Flink cluster lacks (`Endpoints.job_jars`: kappanb's format, the
Kafka connector, the Iceberg runtime with Hadoop and S3 file IO) go with every job as the
remote environment's jar files (``pipeline.jars``), loaded by the job's own class loader.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psutil

from kappanb.core.secrets import redacted_errors
from kappanb.core.sqltext import statements
from kappanb.exceptions import FlinkSubmitError
from kappanb.flink.errors import flink_error_message
from kappanb.stack.endpoints import Endpoints
from kappanb.stack.flink_cluster import flink_dist

_LOCK = threading.Lock()
_GATEWAY_MAIN = "org.apache.flink.client.python.PythonGatewayServer"
_LAUNCHED: dict[str, Any] = {}
"""The gateway kappanb launched in this process ("gateway") and its JVM's pids ("pids")."""
DEFAULT_JOB_CONFIG = {
    "execution.checkpointing.interval": "10 s",
    "execution.checkpointing.mode": "EXACTLY_ONCE",
    # Results must not depend on the machine's zone: a replay elsewhere gives the same days.
    "table.local-time-zone": "UTC",
    # Part of the job graph, so it is the client's setting that counts, not the cluster's:
    # a cancelled (or lost) run can then be resumed from its latest checkpoint.
    "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
    # Restart from the last checkpoint after a failure, but give up (FAILED, with its
    # exception) after 12 tries in a row instead of retrying forever. The waits (1, 2, 4, 8,
    # 16, then 30 s) cover about 4.5 minutes: a lost TaskManager that is started again gets
    # the job back even when it takes minutes to register on a loaded machine (6 tries,
    # about a minute, ran out in CI). A malformed event in a fail-fast run does not use
    # these tries: kappa-json suppresses restarts for it, so that run fails at once.
    "restart-strategy.type": "exponential-delay",
    "restart-strategy.exponential-delay.initial-backoff": "1 s",
    "restart-strategy.exponential-delay.backoff-multiplier": "2.0",
    "restart-strategy.exponential-delay.max-backoff": "30 s",
    "restart-strategy.exponential-delay.attempts-before-reset-backoff": "12",
    # Python UDFs run in workers the TaskManager starts with this interpreter (it has pyflink).
    "python.executable": sys.executable,
    "python.client.executable": sys.executable,
}


@dataclass(frozen=True)
class SubmittedJob:
    """A job the session cluster accepted."""

    job_id: str
    name: str
    web_url: str

    def _repr_html_(self) -> str:
        return (
            f"job <code>{self.name}</code> submitted: <code>{self.job_id}</code> "
            f'(<a href="{self.web_url}" target="_blank">Flink web UI</a>)'
        )


def split_statements(script: str) -> list[str]:
    """Split a SQL script on semicolons outside quotes; drop comments and empty pieces."""
    return [statement.text for statement in statements(script)]


def is_insert(statement: str) -> bool:
    return statement.lstrip().upper().startswith("INSERT ")


class FlinkSqlClient:
    """Plans Flink SQL in this process and submits it to the session cluster."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        url = urlparse(endpoints.flink_rest_url)
        self._host, self._port = url.hostname or "127.0.0.1", int(url.port or 8081)

    def submit(
        self,
        script: str | Sequence[str],
        *,
        job_name: str,
        config: Mapping[str, str] | None = None,
    ) -> SubmittedJob:
        """Run the script's DDL, then submit all its INSERTs as one statement set (one job)."""
        statements = split_statements(script) if isinstance(script, str) else list(script)
        inserts = [s for s in statements if is_insert(s)]
        if not inserts:
            raise FlinkSubmitError(
                "the SQL has no INSERT INTO statement, so there is no job to submit"
            )

        def build(tenv: Any, statement_set: Any) -> None:
            for statement in statements:
                if is_insert(statement):
                    statement_set.add_insert_sql(statement)
                else:
                    tenv.execute_sql(statement)

        return self.submit_with(build, job_name=job_name, config=config)

    def submit_with(
        self,
        build: Callable[[Any, Any], None],
        *,
        job_name: str,
        config: Mapping[str, str] | None = None,
    ) -> SubmittedJob:
        """Let ``build(table_env, statement_set)`` fill a statement set, then submit it."""
        settings = {**DEFAULT_JOB_CONFIG, **self.endpoints.job_config, **(config or {})}
        tenv = self.table_env({**settings, "pipeline.name": job_name})
        # The statements hold the Kafka connection's and the catalog's secrets: no error
        # says them.
        with redacted_errors(self.endpoints.secrets):
            try:
                tenv.execute_sql(self.endpoints.catalog.flink_ddl())
                statement_set = tenv.create_statement_set()
                build(tenv, statement_set)
                result = statement_set.execute()
                job_id = str(result.get_job_client().get_job_id())
            except FlinkSubmitError:
                raise
            except Exception as exc:
                message = flink_error_message(exc)
                raise FlinkSubmitError(f"Flink rejected the job: {message}") from None
        return SubmittedJob(job_id, job_name, self.endpoints.job_url(job_id))

    def table_env(self, config: Mapping[str, str]) -> Any:
        """A streaming TableEnvironment whose jobs go to the session cluster."""
        from pyflink.datastream import StreamExecutionEnvironment
        from pyflink.table import EnvironmentSettings, StreamTableEnvironment

        gateway = self._gateway()
        jvm = gateway.jvm
        jconf = jvm.org.apache.flink.configuration.Configuration()
        for key, value in config.items():
            jconf.setString(key, value)
        java_env = jvm.org.apache.flink.streaming.api.environment.StreamExecutionEnvironment
        shipped = [str(jar) for jar in self.endpoints.job_jars]  # none: the cluster has them
        jars = gateway.new_array(jvm.String, len(shipped))
        for i, jar in enumerate(shipped):
            jars[i] = jar
        remote = java_env.createRemoteEnvironment(self._host, self._port, jconf, jars)
        tenv = StreamTableEnvironment.create(
            StreamExecutionEnvironment(remote), EnvironmentSettings.in_streaming_mode()
        )
        for key, value in config.items():
            tenv.get_config().set(key, value)
        return tenv

    def _gateway(self) -> Any:
        """PyFlink's gateway, launched once per process with the endpoints' lib/ on its
        classpath. One kappanb launched for other endpoints whose lib/ lacks a jar these
        need (the embedded stack's has no S3 file IO, a profile's client no SQLite driver of
        another home's) is closed and launched again."""
        import pyflink.java_gateway as java_gateway

        if _LAUNCHED.get("gateway") is not None and _missing_jars(self.endpoints.flink_lib):
            close_gateway()
        with _LOCK:
            if java_gateway._gateway is None:
                os.environ["FLINK_HOME"] = str(flink_dist())
                os.environ["FLINK_LIB_DIR"] = str(self.endpoints.flink_lib)
                log_dir = self.endpoints.flink_lib.parent.parent / "logs" / "flink-client"
                log_dir.mkdir(parents=True, exist_ok=True)
                os.environ["FLINK_LOG_DIR"] = str(log_dir)
                before = _gateway_jvms()
                gateway = java_gateway.get_gateway()
                _LAUNCHED.update(gateway=gateway, pids=sorted(_gateway_jvms() - before))
                atexit.register(close_gateway)  # registered again after a close: harmless
            gateway = java_gateway.get_gateway()
        classpath = str(gateway.jvm.System.getProperty("java.class.path"))
        if "iceberg-flink-runtime" not in classpath:
            raise FlinkSubmitError(
                "PyFlink was already started in this Python process without kappanb's connector "
                "jars. Restart the kernel (or process) and use kappanb before other PyFlink code."
            )
        return gateway


def _missing_jars(lib: Path) -> set[str]:
    """The jars of ``lib`` that the running gateway's classpath does not name."""
    gateway = _LAUNCHED.get("gateway")
    if gateway is None:
        return set()
    try:
        classpath = str(gateway.jvm.System.getProperty("java.class.path"))
    except Exception:  # a gateway that died: launch a new one
        return {"(gateway gone)"}
    on_path = {Path(entry).name for entry in classpath.split(os.pathsep)}
    return {jar.name for jar in lib.glob("*.jar")} - on_path


def gateway_pids() -> list[int]:
    """Pids of the PyFlink gateway JVM kappanb launched in this process (none when closed)."""
    return list(_LAUNCHED.get("pids", []))


def close_gateway(timeout: float = 10.0) -> list[int]:
    """Shut down the gateway JVM kappanb launched in this process, if any, and return its
    pids. The next submission launches a new one. (A gateway someone else's PyFlink code
    launched is left alone.) Runs at interpreter exit too."""
    with _LOCK:
        gateway, pids = _LAUNCHED.pop("gateway", None), _LAUNCHED.pop("pids", [])
        if gateway is None:
            return []
        import pyflink.java_gateway as java_gateway  # imported already: it launched this

        if java_gateway._gateway is gateway:
            java_gateway._gateway = None
        with contextlib.suppress(Exception):
            gateway.shutdown()
        jvms = []
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                jvms.append(psutil.Process(pid))
        for jvm in jvms:
            with contextlib.suppress(psutil.Error):
                jvm.terminate()
        _, alive = psutil.wait_procs(jvms, timeout=timeout)  # reaps them: they are children
        for jvm in alive:
            with contextlib.suppress(psutil.Error):
                jvm.kill()
        psutil.wait_procs(alive, timeout=timeout)
    return list(pids)


def _gateway_jvms() -> set[int]:
    """Pids of this process's children that run PyFlink's gateway server."""
    found = set()
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if _GATEWAY_MAIN in child.cmdline():
                found.add(child.pid)
    return found
