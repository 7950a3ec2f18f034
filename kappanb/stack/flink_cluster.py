"""The Flink standalone session cluster, from the distribution inside the apache-flink wheel.

kappanb never edits the wheel. Each home gets its own ``flink/lib`` (links to the
wheel's jars plus the connector jars) and ``flink/conf``; Flink's scripts honour
FLINK_LIB_DIR, FLINK_CONF_DIR and FLINK_LOG_DIR, and so does the PyFlink client.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from kappanb.exceptions import ServiceStartError
from kappanb.stack.jars import JarSet
from kappanb.stack.java import JavaRuntime
from kappanb.stack.layout import HomeLayout
from kappanb.stack.ports import HOST

_SCRIPTS = {"flink-jobmanager": "jobmanager.sh", "flink-taskmanager": "taskmanager.sh"}
MAIN_CLASSES = {
    "flink-jobmanager": "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
    "flink-taskmanager": "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
}
"""The JVM's main class once the start script has exec'ed it (with ``--configDir CONF``)."""


def flink_dist() -> Path:
    """The Flink distribution shipped in the apache-flink wheel (``pyflink/``)."""
    spec = importlib.util.find_spec("pyflink")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceStartError(
            "the apache-flink package is not installed in this Python environment: "
            "run `pip install kappanb` (or the README's setup command) again."
        )
    dist = Path(next(iter(spec.submodule_search_locations)))
    if not (dist / "bin" / "jobmanager.sh").is_file() or not (dist / "lib").is_dir():
        raise ServiceStartError(
            f"{dist} has no Flink distribution (bin/, lib/): reinstall apache-flink."
        )
    return dist


def build_lib(
    layout: HomeLayout, jars: JarSet, extra: Sequence[Path] = (), *, connectors: bool = True
) -> None:
    """Fill the home's flink/lib with links to the wheel's jars, the connector jars (unless
    ``connectors`` is False: a plain Flink lib/) and ``extra`` ones (kappanb's own format)."""
    lib = layout.flink_lib
    if lib.exists():
        shutil.rmtree(lib)
    lib.mkdir(parents=True)
    # flink-python (from the wheel's opt/) lets jobs with Python UDFs run on the cluster.
    python = sorted((flink_dist() / "opt").glob("flink-python-*.jar"))
    for jar in [
        *sorted((flink_dist() / "lib").glob("*.jar")),
        *python,
        *(jars.jars("flink") if connectors else []),
        *extra,
    ]:
        (lib / jar.name).symlink_to(jar)


def flink_config(
    layout: HomeLayout, rest_port: int, rpc_port: int, *, slots: int, jm_memory: str, tm_memory: str
) -> dict[str, Any]:
    """The cluster's config.yaml: the wheel's defaults (JVM flags) plus kappanb's settings."""
    base = yaml.safe_load((flink_dist() / "conf" / "config.yaml").read_text()) or {}
    java_opts = base.get("env", {}).get("java", {}).get("opts", {}).get("all", "")
    return {
        "env.java.opts.all": java_opts,
        "jobmanager.rpc.address": HOST,
        "jobmanager.rpc.port": rpc_port,
        "jobmanager.bind-host": HOST,
        "jobmanager.memory.process.size": jm_memory,
        "jobmanager.execution.failover-strategy": "region",
        "taskmanager.bind-host": HOST,
        "taskmanager.host": HOST,
        "taskmanager.numberOfTaskSlots": slots,
        "taskmanager.memory.process.size": tm_memory,
        "parallelism.default": 1,
        # Keep finished jobs visible for a week (default one hour), so a bounded replay
        # nobody looked at still shows FINISHED instead of unknown.
        "jobstore.expiration-time": 7 * 24 * 3600,
        # The REST API serves metrics it fetched from the TaskManagers at most this often
        # (default 10 s); the watch panel samples about once a second.
        "metrics.fetcher.update-interval": 500,
        # ... and asks each TaskManager for them with this timeout (default 10 min): while
        # one ask waits on a TaskManager that died, no metric of any job is refreshed. After
        # a killed TaskManager every offset and watermark stayed frozen for minutes (CI:
        # notebook 04's diffs right after notebook 03's kill). Also the REST handlers' ask
        # timeout: a job submission or a savepoint trigger answers well within it.
        "web.timeout": "60 s",
        # A lost TaskManager (or JobManager) is noticed in 15 s, not the default 50 s: on
        # loopback a missed heartbeat is a dead process, and the job restarts from its
        # checkpoint sooner. Failed heartbeat RPCs do not count (default: two in a row mark
        # the peer unreachable): on a loaded machine a live TaskManager was disconnected
        # that way, and every job restarted with no watermark until new records came.
        # Job states and checkpoint figures about as fresh as the metrics: the REST API
        # caches a job's graph for this long (default 3 s), and its checkpoint statistics.
        "web.refresh-interval": "1 s",
        "rest.cache.checkpoint-statistics.timeout": "500 ms",
        "heartbeat.interval": "2 s",
        "heartbeat.timeout": "15 s",
        "heartbeat.rpc-failure-threshold": -1,
        # A TaskManager that outlived its JobManager keeps trying to register with the new
        # one; retry at most every 2 s (default up to 30 s, 10 s after an error).
        "cluster.registration.max-timeout": "2 s",
        "cluster.registration.error-delay": "2 s",
        "rest.address": HOST,
        "rest.bind-address": HOST,
        "rest.port": rest_port,
        "blob.server.port": "0",
        "io.tmp.dirs": str(layout.flink_tmp),
        "web.tmpdir": str(layout.flink_tmp / "web"),
        "execution.checkpointing.dir": layout.flink_checkpoints.as_uri(),
        "execution.checkpointing.savepoint-dir": layout.flink_savepoints.as_uri(),
        # Every job that ends is archived here (its REST answers, state included): after a
        # JobManager restart, a run that had finished is read as FINISHED, not as lost.
        "jobmanager.archive.fs.dir": layout.flink_job_archive.as_uri(),
        "execution.checkpointing.num-retained": 3,
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "state.backend.type": "hashmap",
    }


def write_conf(layout: HomeLayout, config: dict[str, Any]) -> None:
    conf = layout.flink_conf
    conf.mkdir(parents=True, exist_ok=True)
    for folder in (
        layout.flink_tmp, layout.flink_checkpoints, layout.flink_savepoints,
        layout.flink_job_archive,
    ):  # fmt: skip
        folder.mkdir(parents=True, exist_ok=True)
    (conf / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=True))
    dist_conf = flink_dist() / "conf"
    for name in (
        "log4j-console.properties",
        "log4j-cli.properties",
        "log4j.properties",
        "logback-console.xml",
    ):
        if (dist_conf / name).is_file():
            shutil.copyfile(dist_conf / name, conf / name)


def process_argv(service: str) -> list[str]:
    """Run the wheel's script in the foreground: it execs the JVM, so our pid is the JVM's."""
    return ["bash", str(flink_dist() / "bin" / _SCRIPTS[service]), "start-foreground"]


def process_env(service: str, layout: HomeLayout, java: JavaRuntime) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "JAVA_HOME": str(java.home),
            "FLINK_HOME": str(flink_dist()),
            "FLINK_CONF_DIR": str(layout.flink_conf),
            "FLINK_LIB_DIR": str(layout.flink_lib),
            "FLINK_LOG_DIR": str(layout.flink_log_dir(service)),
            "FLINK_PID_DIR": str(layout.run_dir / "flink"),
            "FLINK_IDENT_STRING": "kappanb",
        }
    )
    env["PATH"] = os.pathsep.join([str(java.executable.parent), env.get("PATH", "")])
    layout.flink_log_dir(service).mkdir(parents=True, exist_ok=True)
    return env


def flink_log_file(layout: HomeLayout, service: str) -> Path | None:
    """Flink's own log file for a service (named by flink-console.sh)."""
    logs = sorted(layout.flink_log_dir(service).glob("*.log"), key=lambda p: p.stat().st_mtime)
    return logs[-1] if logs else None


def rest_overview(rest_url: str, timeout: float = 2.0, path: str = "/overview") -> Any:
    """The cluster overview (or another GET ``path``), or None when the REST API does not
    answer."""
    try:
        with urllib.request.urlopen(f"{rest_url}{path}", timeout=timeout) as resp:
            return json.load(resp)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def taskmanager_ids(rest_url: str) -> set[str]:
    """The TaskManagers registered now (a killed one stays until its heartbeats fail)."""
    listed = rest_overview(rest_url, path="/taskmanagers")
    return {str(t["id"]) for t in listed.get("taskmanagers", [])} if listed else set()


def jobmanager_healthy(rest_url: str) -> bool:
    return rest_overview(rest_url) is not None


def taskmanager_healthy(rest_url: str, slots: int, not_ids: frozenset[str] = frozenset()) -> bool:
    """A TaskManager other than ``not_ids`` (those registered before it started) has
    registered, and the cluster has ``slots`` task slots."""
    overview = rest_overview(rest_url)
    if overview is None or int(overview.get("slots-total", 0)) < slots:
        return False
    return not not_ids or bool(taskmanager_ids(rest_url) - not_ids)
