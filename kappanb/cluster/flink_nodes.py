"""The local cluster's Flink 2.0 session cluster: a JobManager and two TaskManagers.

Built from the embedded stack's helpers (`kappanb.stack.flink_cluster`): the same
distribution (the apache-flink wheel) with a lib/ that holds only what a plain PyFlink
cluster has (the wheel's lib/ and flink-python): no connector, no Iceberg, no Hadoop, no
kappanb format. A job brings those itself (`kappanb.stack.client_lib`), as it must on any
cluster a profile names, so the local cluster exercises the shipping. A plugins/ folder
holds the S3 file system, so that checkpoints and savepoints go to the object store's
``state`` bucket. RocksDB (in Flink's
own distribution) is the state backend, with incremental checkpoints. The S3 keys reach
the processes through the environment (the S3 file system reads AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY), never through a configuration file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kappanb.cluster.layout import JOBMANAGER, STATE_BUCKET, ClusterLayout
from kappanb.cluster.secrets import ClusterSecrets
from kappanb.stack import flink_cluster
from kappanb.stack.jars import JarSet
from kappanb.stack.java import JavaRuntime
from kappanb.stack.ports import HOST

S3_PLUGIN = "s3-fs-hadoop"
S3_REGION = "us-east-1"
CHECKPOINTS = f"s3://{STATE_BUCKET}/checkpoints"
SAVEPOINTS = f"s3://{STATE_BUCKET}/savepoints"
JOB_ARCHIVE = f"s3://{STATE_BUCKET}/completed-jobs"
TM_FRAMEWORK_HEAP = "64m"
TM_TASK_HEAP = "192m"
"""A TaskManager's JVM heap is these two: 256 MB. 128 MB ran out (OutOfMemoryError) in the
cluster tests: each job opens its own copies of the shipped jars in a class loader of its
own (their zip directories are on the heap), and finished jobs' loaders stay alive."""
TM_MANAGED = "256m"
"""RocksDB's memory (block cache and memtables), 128 MB per slot."""
TM_NETWORK = "64m"


def rest_url(ports: Mapping[str, int]) -> str:
    return f"http://{HOST}:{ports['flink_rest']}"


def s3_endpoint(ports: Mapping[str, int]) -> str:
    return f"http://{HOST}:{ports['s3_s3']}"


def resource_id(service: str) -> str:
    """A TaskManager's id in Flink (its REST API and web UI show it)."""
    return f"kappanb-{service}"


def build_folders(layout: ClusterLayout, jars: JarSet) -> None:
    """lib/ (Flink's own jars only) and plugins/s3-fs-hadoop/ (the S3 file system, which
    Flink loads in a class loader of its own)."""
    flink_cluster.build_lib(layout.processes, jars, connectors=False)
    plugin = layout.flink_plugins / S3_PLUGIN
    plugin.mkdir(parents=True, exist_ok=True)
    for old in plugin.glob("*.jar"):
        old.unlink()
    for jar in jars.jars("flink-s3-plugin"):
        (plugin / jar.name).symlink_to(jar)


def config(
    layout: ClusterLayout, ports: Mapping[str, int], *, slots: int, jm_memory: str,
    tm_memory: str,
) -> dict[str, Any]:  # fmt: skip
    """The cluster's config.yaml: the embedded stack's, with state on S3 in RocksDB."""
    settings = flink_cluster.flink_config(
        layout.processes, ports["flink_rest"], ports["flink_rpc"],
        slots=slots, jm_memory=jm_memory, tm_memory=tm_memory,
    )  # fmt: skip
    settings.update(
        {
            "execution.checkpointing.dir": CHECKPOINTS,
            "execution.checkpointing.savepoint-dir": SAVEPOINTS,
            "jobmanager.archive.fs.dir": JOB_ARCHIVE,
            "state.backend.type": "rocksdb",
            "execution.checkpointing.incremental": True,
            # A small JVM heap on purpose, as production RocksDB TaskManagers have: keyed
            # state lives in RocksDB, in managed (off-heap) memory and on local disk, not on
            # the heap, so a replay's state can outgrow the heap
            # (tests/cluster/test_keyed_state_beyond_heap.py). JVM heap = framework + task
            # heap. Network memory is fixed too: with the heap and managed sizes given, Flink
            # derives it as a fraction and the JVM overhead as what the process size
            # (`ClusterSizes`) leaves, which fell below its 192 MB minimum and the
            # TaskManager did not start.
            "taskmanager.memory.framework.heap.size": TM_FRAMEWORK_HEAP,
            "taskmanager.memory.task.heap.size": TM_TASK_HEAP,
            "taskmanager.memory.managed.size": TM_MANAGED,
            "taskmanager.memory.network.min": TM_NETWORK,
            "taskmanager.memory.network.max": TM_NETWORK,
            # Every job brings its own Kafka, Iceberg, Hadoop and AWS classes (shipped jars,
            # one class loader per job), and Hadoop's and the AWS SDK's threads keep a
            # finished job's loader alive: 256 MB (the default) ran out after about four
            # jobs per TaskManager.
            "taskmanager.memory.jvm-metaspace.size": "640m",
            # A job's slots spread over the TaskManagers (default: fill one first), so a
            # replay with parallelism 2 runs on both.
            "taskmanager.load-balance.mode": "SLOTS",
            # The S3 file system (Hadoop S3A: s3.* becomes fs.s3a.*); keys from the env.
            "s3.endpoint": s3_endpoint(ports),
            "s3.path.style.access": True,
            "s3.endpoint.region": S3_REGION,
        }
    )
    return settings


def write_config(layout: ClusterLayout, settings: dict[str, Any]) -> None:
    flink_cluster.write_conf(layout.processes, settings)


def argv(service: str) -> list[str]:
    """The wheel's start script in the foreground (it execs the JVM: our pid is the JVM's).
    A TaskManager gets its resource id, which tells the two apart."""
    bin_dir = flink_cluster.flink_dist() / "bin"
    if service == JOBMANAGER:
        return ["bash", str(bin_dir / "jobmanager.sh"), "start-foreground"]
    return ["bash", str(bin_dir / "taskmanager.sh"), "start-foreground",
            "-D", f"taskmanager.resource-id={resource_id(service)}"]  # fmt: skip


def environment(
    service: str, layout: ClusterLayout, java: JavaRuntime, secrets: ClusterSecrets
) -> dict[str, str]:
    env = flink_cluster.process_env(service, layout.processes, java)
    env["FLINK_PLUGINS_DIR"] = str(layout.flink_plugins)
    env.update(secrets.s3_environment())
    return env


def marks(layout: ClusterLayout, service: str) -> tuple[str, ...]:
    """Arguments only this cluster's ``service`` has on its command line."""
    conf = str(layout.processes.flink_conf)
    if service == JOBMANAGER:
        return (flink_cluster.MAIN_CLASSES["flink-jobmanager"], conf)
    main = flink_cluster.MAIN_CLASSES["flink-taskmanager"]
    return (main, conf, f"taskmanager.resource-id={resource_id(service)}")


def registered_taskmanagers(ports: Mapping[str, int]) -> dict[str, str]:
    """The TaskManagers registered with the JobManager now: resource id -> RPC address.

    A TaskManager started again registers under the same id at a new address (its RPC
    port is ephemeral); the killed one stays listed until its heartbeats time out."""
    listed = flink_cluster.rest_overview(rest_url(ports), path="/taskmanagers")
    if not listed:
        return {}
    return {str(t["id"]): str(t.get("path", "")) for t in listed.get("taskmanagers", [])}


def jobmanager_healthy(ports: Mapping[str, int]) -> bool:
    return flink_cluster.jobmanager_healthy(rest_url(ports))


def log_file(layout: ClusterLayout, service: str) -> Path:
    """Flink's own log of ``service`` (else what the process wrote to its console)."""
    return flink_cluster.flink_log_file(layout.processes, service) or layout.console_log(service)
