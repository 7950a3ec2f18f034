"""The benchmark's stages, each measured with :func:`benchmarks.replaybench.measure.stage`.

Every stage reads the same topic from its first offset to its end. The stack is only
measured, never changed, except for the output tables the Flink stages write.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from benchmarks.replaybench.measure import Figure, figure, stage
from benchmarks.replaybench.workloads import Workload, hand_written_sql
from kappanb.flink.rest import FlinkRest
from kappanb.generators import PaymentsGenerator
from kappanb.stack.base import Stack
from kappanb.stack.flink_cluster import flink_dist
from kappanb.stack.jars import JarCache
from kappanb.stack.java import find_java
from kappanb.tables.catalog import CatalogLocation
from kappanb.tables.read import scan_table
from kappanb.workbench import Workbench

ROOT = Path(__file__).resolve().parents[2]
POLL_S = 0.2


@dataclass
class Bench:
    """The stack under test and where the benchmark keeps its scratch files.

    On the embedded stack the defaults hold; on a stack kappanb did not start (the local
    cluster) ``pids`` names its processes, ``reader_bootstrap`` a listener the Python
    readers reach without credentials, and ``client_env`` chooses the profile."""

    stack: Stack
    workbench: Workbench
    topic: str
    source: str  # the topic's SQL table name
    events: int
    scratch: Path
    checkpoint_interval: str
    pids: Callable[[], dict[str, int]] | None = None
    reader_bootstrap: str | None = None
    client_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def services(self) -> dict[str, int]:
        if self.pids is not None:
            return self.pids()
        return {s.name: s.pid for s in self.stack.status().services if s.pid is not None}

    @property
    def bootstrap(self) -> str:
        """Where the Python readers (raw, oracle) read the topic."""
        return self.reader_bootstrap or self.stack.endpoints().bootstrap_servers

    @property
    def rest(self) -> FlinkRest:
        return FlinkRest(self.stack.endpoints().flink_rest_url)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KAPPANB_HOME": str(self.stack.settings.home),
            "PYTHONPATH": str(ROOT),
            **self.client_env,
        }


def produce(bench: Bench, seed: int) -> Figure:
    """Fill the topic with ``bench.events`` payments (deterministic), timing the produce."""
    with stage("produce", bench.services) as s:
        began = time.process_time()
        result = bench.workbench.produce(
            bench.topic, PaymentsGenerator(seed=seed).events(bench.events)
        )
        s.records = result.delivered
        s.reaped += time.process_time() - began  # produced in this process
    return figure(s)


def raw_jvm(bench: Bench) -> Figure:
    """Kafka's own consumer performance tool, from the broker's jars."""
    java = find_java()
    classpath = os.pathsep.join(
        str(p) for p in JarCache(bench.stack.settings).jar_set().jars("kafka")
    )
    quiet = bench.scratch / "perf-tool-log4j2.properties"
    quiet.write_text(
        "rootLogger.level = warn\nrootLogger.appenderRef.err.ref = err\n"
        "appender.err.type = Console\nappender.err.name = err\nappender.err.target = SYSTEM_ERR\n"
        "appender.err.layout.type = PatternLayout\nappender.err.layout.pattern = %m%n\n"
    )
    argv = [
        str(java.executable), "-Xmx512m", "-cp", classpath,
        f"-Dlog4j2.configurationFile={quiet}",
        "org.apache.kafka.tools.ConsumerPerformance",
        "--bootstrap-server", bench.stack.endpoints().bootstrap_servers,
        "--topic", bench.topic, "--messages", str(bench.events),
        "--group", f"kappanb-bench-perf-{time.time_ns()}", "--timeout", "60000",
    ]  # fmt: skip
    with stage("raw log read, JVM", bench.services) as s:
        done = s.run(argv)
        s.records, s.extra["tool_events_per_s"] = _perf_tool_summary(done.stdout)
    return figure(s)


def _perf_tool_summary(stdout: str) -> tuple[int, float]:
    """Messages and messages/s (its own clock) from ConsumerPerformance's summary line."""
    rows = [ln for ln in stdout.splitlines() if re.match(r"^\d{4}-\d\d-\d\d", ln)]
    if not rows:
        raise RuntimeError(f"the consumer performance tool printed no summary:\n{stdout}")
    columns = rows[-1].split(",")
    return int(float(columns[4])), float(columns[5])


def raw_python(bench: Bench) -> Figure:
    """confluent-kafka reading the whole topic in batches, decoding nothing."""
    argv = [
        sys.executable,
        "-m",
        "benchmarks.replaybench.pyread",
        "raw",
        "--bootstrap",
        bench.bootstrap,
        "--topic",
        bench.topic,
    ]
    with stage("raw log read, Python", bench.services) as s:
        done = s.run(argv, env=bench.env())
        s.records = int(json.loads(done.stdout.strip().splitlines()[-1])["records"])
    return figure(s)


def oracle(bench: Bench, workload: Workload) -> tuple[Figure, pl.DataFrame]:
    """confluent-kafka + json decoding + the aggregation in plain Python."""
    out = bench.scratch / f"oracle-{workload.name}.parquet"
    argv = [
        sys.executable,
        "-m",
        "benchmarks.replaybench.pyread",
        "oracle",
        "--workload",
        workload.name,
        "--bootstrap",
        bench.bootstrap,
        "--topic",
        bench.topic,
        "--out",
        str(out),
    ]
    with stage(f"Python oracle {workload.name}", bench.services) as s:
        done = s.run(argv, env=bench.env())
        s.records = int(json.loads(done.stdout.strip().splitlines()[-1])["records"])
    return figure(s), pl.read_parquet(out)


def _sql_client_lib(bench: Bench) -> Path:
    """The SQL client's lib/: the cluster's jars (connectors included) and the SQL gateway."""
    lib = bench.scratch / "sql-client-lib"
    if not lib.is_dir():
        lib.mkdir(parents=True)
        cache = JarCache(bench.stack.settings).jar_set()
        jars = [*bench.stack.endpoints().flink_lib.glob("*.jar"), *cache.jars("flink-sql-client")]
        for jar in jars:
            (lib / jar.name).symlink_to(jar.resolve())
    return lib


def _sql_client_conf(bench: Bench) -> Path:
    """A Flink configuration for the SQL client: submit to the session cluster's REST API."""
    conf = bench.scratch / "sql-client-conf"
    if conf.is_dir():
        return conf
    conf.mkdir(parents=True)
    rest = bench.stack.endpoints().flink_rest_url.rsplit(":", 1)
    settings = {
        "execution.target": "remote",
        "rest.address": rest[0].split("//")[1],
        "rest.port": int(rest[1]),
    }
    (conf / "config.yaml").write_text(yaml.safe_dump(settings))
    for name in ("log4j-cli.properties", "log4j-console.properties", "log4j.properties"):
        if (flink_dist() / "conf" / name).is_file():
            shutil.copyfile(flink_dist() / "conf" / name, conf / name)
    return conf


def hand_written_flink(
    bench: Bench, workload: Workload, parallelism: int
) -> tuple[Figure, pl.DataFrame]:
    """The workload as a Flink SQL client script, submitted with Flink's own SQL client."""
    table = f"hand_{workload.name}_p{parallelism}_{time.time_ns() % 10**9}"
    job_name = f"hand-written {workload.name} p{parallelism} {table}"
    endpoints = bench.stack.endpoints()
    catalog = endpoints.catalog
    if not isinstance(catalog, CatalogLocation):  # the hand-written script is the JDBC one's
        raise TypeError("the hand-written job runs on the embedded stack's JDBC catalog")
    script = bench.scratch / f"{table}.sql"
    script.write_text(
        hand_written_sql(
            workload,
            topic=bench.topic,
            source=bench.source,
            bootstrap=endpoints.bootstrap_servers,
            catalog=catalog.name,
            catalog_uri=catalog.jdbc_uri,
            warehouse_uri=catalog.warehouse.as_uri(),
            table=table,
            job_name=job_name,
            parallelism=parallelism,
            checkpoint_interval=bench.checkpoint_interval,
        )
    )
    env = {
        **bench.env(),
        "FLINK_HOME": str(flink_dist()),
        "FLINK_CONF_DIR": str(_sql_client_conf(bench)),
        "FLINK_LIB_DIR": str(_sql_client_lib(bench)),
        "FLINK_LOG_DIR": str(bench.scratch / "sql-client-logs"),
    }
    argv = ["bash", str(flink_dist() / "bin" / "sql-client.sh"), "-f", str(script)]
    with stage(f"hand-written Flink SQL {workload.name} p{parallelism}", bench.services) as s:
        done = s.run(argv, env=env)
        job_id = _job_named(bench.rest, job_name, done.stdout)
        s.extra.update(_wait_finished(bench.rest, job_id))
        s.records = bench.events
    return figure(s), workload.canonical(scan_table(endpoints.catalog, table).collect())


def kappanb_replay(
    bench: Bench, workload: Workload, job: str, parallelism: int, variant: str = ""
) -> tuple[Figure, pl.DataFrame]:
    """`kappanb replay JOB --until latest` from offset 0, in its own process, until finished.
    ``variant`` names how the topic is declared when it is not the default (e.g. fail-fast)."""
    argv = [
        str(Path(sys.executable).parent / "kappanb"),
        "replay",
        job,
        "--until",
        "latest",
        "--parallelism",
        str(parallelism),
        "--restart",
        "--quiet",
    ]
    label = f"kappanb{f' {variant}' if variant else ''} replay {workload.name} p{parallelism}"
    with stage(label, bench.services) as s:
        s.run(argv, env=bench.env())
        run = bench.workbench.runs(job)[-1]
        s.extra.update(_wait_finished(bench.rest, run.flink_job_id))
        s.records = bench.events
    return figure(s), workload.canonical(bench.workbench.read(job, run.version).collect())


def _job_named(rest: FlinkRest, name: str, client_output: str) -> str:
    for job in rest.jobs():
        if job.get("name") == name:
            return str(job["jid"])
    raise RuntimeError(f"the SQL client submitted no job named {name!r}:\n{client_output[-3000:]}")


def _wait_finished(rest: FlinkRest, job_id: str, timeout: float = 1800.0) -> dict[str, Any]:
    """Poll until the job has finished; return Flink's own duration of it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = rest.job(job_id)
        state = str(job["state"])
        if state == "FINISHED":
            reuse = rest.execution_config(job_id)["object-reuse-mode"]
            return {
                "flink_job_s": round(float(job["duration"]) / 1000, 3),
                "flink_job_id": job_id,
                "object_reuse": bool(reuse),  # the same for every Flink stage, or unfair
                # Each completed checkpoint also commits to Iceberg: a run of about one
                # interval takes one or none, which is much of the spread between repeats.
                "checkpoints": int(rest.checkpoints(job_id)["counts"]["completed"]),
                "restarts": rest.restarts(job_id),  # to tell a failover from a wrong result
            }
        if state in ("FAILED", "CANCELED"):
            raise RuntimeError(f"Flink job {job_id} ended {state}: {rest.root_exception(job_id)}")
        time.sleep(POLL_S)
    raise RuntimeError(f"Flink job {job_id} did not finish within {timeout:.0f} s")
