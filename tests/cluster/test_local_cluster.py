"""The local cluster (`kappanb cluster up`), as a user would try the external path on it:
started once for the session (tests/cluster/conftest.py); the last test takes it down."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from kappanb.cluster import flink_nodes
from kappanb.cluster.layout import PROFILE_NAME, SERVICES, ClusterLayout
from kappanb.cluster.local import LocalCluster
from kappanb.cluster.secrets import ensure_secrets
from kappanb.profiles.load import load_profile
from kappanb.profiles.model import Profile
from kappanb.stack.external import ExternalStack
from tests.cluster.conftest import SessionCluster

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]


def profile_of(cluster: LocalCluster) -> Profile:
    return load_profile(PROFILE_NAME, env={}, path=cluster.profile_file)


def cli(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kappanb.cli", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        timeout=120,
        check=False,
    )


def test_up_starts_every_service_and_says_where_it_is(started: SessionCluster) -> None:
    result, cluster = started.first_up, started.cluster
    print(f"\nlocal cluster up in {started.seconds:.1f} s")
    assert result.started == list(SERVICES)
    assert result.status.healthy, str(result)
    text = str(result)
    ports = cluster.ports()
    for port in ("kafka_1_sasl", "kafka_3", "flink_rest", "s3_s3", "s3_iceberg"):
        assert f"127.0.0.1:{ports[port]}" in text
    assert f"KAPPANB_CONFIG={cluster.profile_file} kappanb --profile local-cluster" in text
    assert {p.laddr.ip for p in _listening(cluster)} <= {"127.0.0.1", "::ffff:127.0.0.1"}


def _listening(cluster: LocalCluster) -> list[Any]:
    pids = {s.pid for s in cluster.status().services if s.pid}
    found = []
    for conn in psutil.net_connections(kind="inet"):
        if conn.pid in pids and conn.status == psutil.CONN_LISTEN:
            found.append(conn)
    return found


def test_up_again_leaves_what_runs_alone(local_cluster: LocalCluster) -> None:
    before = {s.name: s.pid for s in local_cluster.status().services}
    again = local_cluster.up()
    assert again.started == []
    assert again.already_running == list(SERVICES)
    assert {s.name: s.pid for s in again.status.services} == before
    assert "already running; nothing started" in str(again)


def test_up_after_a_crash_starts_only_what_died(local_cluster: LocalCluster) -> None:
    """A Kafka node and a TaskManager killed: the others still list them for a while (until
    their sessions time out); `up` starts those two and waits for the new processes."""
    before = {s.name: s.pid for s in local_cluster.status().services}
    killed = ["kafka-2", "flink-taskmanager-1"]
    for name in killed:
        victim = psutil.Process(before[name])
        victim.kill()
        victim.wait(10)
    again = local_cluster.up()
    assert again.started == killed
    assert again.status.healthy, str(again)
    after = {s.name: s.pid for s in again.status.services}
    assert {n for n in SERVICES if after[n] != before[n]} == set(killed)
    assert ExternalStack(profile_of(local_cluster)).status().healthy


def test_the_profile_shows_every_service_healthy(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    status = ExternalStack(profile_of(local_cluster)).status()
    assert status.healthy, str(status)
    assert "3 broker(s)" in status.service("kafka").detail
    flink = status.service("flink").detail
    assert flink.startswith("Flink 2.0.") and "2 TaskManager(s)" in flink
    assert "4 of 4 task slots free" in flink or "of 4 task slots" in flink
    env = {"KAPPANB_CONFIG": str(local_cluster.profile_file), "KAPPANB_HOME": str(tmp_path)}
    shown = cli("--profile", PROFILE_NAME, "status", env=env)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "3 broker(s)" in shown.stdout and "2 TaskManager(s)" in shown.stdout
    as_json = json.loads(cli("--profile", PROFILE_NAME, "status", "--json", env=env).stdout)
    assert as_json["healthy"] and len(as_json["services"]) == 3


def _admin(bootstrap: str, password: str, logger: logging.Logger | None = None) -> AdminClient:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "kappa",
        "sasl.password": password,
    }
    if logger is not None:
        config["logger"] = logger
    return AdminClient(config)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_sasl_takes_the_password_and_refuses_a_wrong_one(local_cluster: LocalCluster) -> None:
    kafka = profile_of(local_cluster).kafka
    assert kafka is not None
    right = kafka.client_config()["sasl.password"]
    admin = _admin(kafka.bootstrap_servers, right)
    admin.create_topics([NewTopic("cluster.check.v1", 2)])["cluster.check.v1"].result(30)
    # The defaults of the cluster: three replicas, two of them in sync to accept a write.
    # (Each broker learns of a new topic from the controller, some milliseconds apart.)
    deadline, partitions = time.monotonic() + 30, {}
    while time.monotonic() < deadline:
        listed = admin.list_topics("cluster.check.v1", timeout=10).topics.get("cluster.check.v1")
        partitions = listed.partitions if listed is not None and listed.error is None else {}
        if len(partitions) == 2 and all(len(p.replicas) == 3 for p in partitions.values()):
            break
        time.sleep(0.5)
    assert {len(p.replicas) for p in partitions.values()} == {3}
    (configs,) = admin.describe_configs([ConfigResource("topic", "cluster.check.v1")]).values()
    assert configs.result(10)["min.insync.replicas"].value == "2"

    lines = _Lines()
    logger = logging.getLogger("tests.cluster.wrong-password")
    logger.addHandler(lines)
    logger.propagate = False
    wrong = _admin(kafka.bootstrap_servers, right + "x", logger)
    with pytest.raises(KafkaException):
        wrong.list_topics(timeout=5)
    wrong.poll(1)  # serves the client's log lines
    assert any("Authentication failed" in line for line in lines.lines), lines.lines


def _s3(cluster: LocalCluster, **keys: Any) -> Any:
    from pyarrow import fs

    endpoint = f"http://127.0.0.1:{cluster.ports()['s3_s3']}"
    return fs.S3FileSystem(
        endpoint_override=endpoint,
        scheme="http",
        region="us-east-1",
        connect_timeout=5,
        request_timeout=10,
        **keys,
    )


def test_s3_and_the_catalog_open_with_the_keys_only(local_cluster: LocalCluster) -> None:
    from pyarrow import fs
    from pyiceberg.catalog.rest import RestCatalog
    from pyiceberg.exceptions import RESTError

    secrets = ensure_secrets(local_cluster.layout)
    keys = {"access_key": secrets.s3_access_key, "secret_key": secrets.s3_secret_key}
    store = _s3(local_cluster, **keys)
    for bucket in ("state", "warehouse"):
        assert store.get_file_info(bucket).type == fs.FileType.Directory
    with store.open_output_stream("state/checks/hello.txt") as out:
        out.write(b"hello")
    assert store.get_file_info("state/checks/hello.txt").size == 5
    for refused in (
        _s3(local_cluster, anonymous=True),
        _s3(local_cluster, access_key=keys["access_key"], secret_key="wrong"),
    ):
        with pytest.raises(OSError, match=r"ACCESS_DENIED|SIGNATURE_DOES_NOT_MATCH"):
            refused.get_file_info(fs.FileSelector("state"))

    iceberg = profile_of(local_cluster).iceberg
    assert iceberg is not None
    properties = iceberg.catalog_properties()
    catalog = RestCatalog("local", **properties)
    catalog.create_namespace_if_not_exists("cluster_check")
    assert ("cluster_check",) in catalog.list_namespaces()
    without = {k: v for k, v in properties.items() if k != "credential"}
    with pytest.raises(RESTError):
        RestCatalog("anonymous", **without).list_namespaces()
    with pytest.raises(RESTError):
        RestCatalog("wrong", **{**properties, "credential": f"{keys['access_key']}:wrong"})


def _rest(cluster: LocalCluster, path: str, method: str = "GET") -> Any:
    url = f"{flink_nodes.rest_url(cluster.ports())}{path}"
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as r:
        return json.load(r)


@pytest.mark.slow
def test_a_job_checkpoints_to_s3_with_rocksdb(local_cluster: LocalCluster, tmp_path: Path) -> None:
    from pyarrow import fs

    from kappanb.flink.sql import FlinkSqlClient, close_gateway, gateway_pids

    profile = load_profile(PROFILE_NAME, env={"KAPPANB_HOME": str(tmp_path)},
                           path=local_cluster.profile_file)  # fmt: skip
    endpoints = ExternalStack(profile).endpoints()  # a plain cluster: the client has the jars
    launched = not gateway_pids()  # else an earlier test's gateway, left for later ones
    tenv = FlinkSqlClient(endpoints).table_env({"execution.checkpointing.interval": "1 s"})
    tenv.execute_sql(
        "CREATE TABLE src (k INT, v BIGINT) WITH ('connector'='datagen', "
        "'rows-per-second'='20', 'fields.k.min'='1', 'fields.k.max'='5')"
    )
    tenv.execute_sql("CREATE TABLE snk (k INT, n BIGINT) WITH ('connector'='blackhole')")
    job = str(
        tenv.execute_sql("INSERT INTO snk SELECT k, COUNT(*) FROM src GROUP BY k")
        .get_job_client()
        .get_job_id()
    )
    try:
        deadline, latest = time.monotonic() + 120, None
        while time.monotonic() < deadline and latest is None:
            latest = (_rest(local_cluster, f"/jobs/{job}/checkpoints").get("latest") or {}).get(
                "completed"
            )
            time.sleep(1)
        assert latest is not None, "no checkpoint completed within 120 s"
        path = latest["external_path"]
        assert path.startswith(f"s3://state/checkpoints/{job}/chk-")
        config = _rest(local_cluster, f"/jobs/{job}/checkpoints/config")
        assert config["state_backend"] == "EmbeddedRocksDBStateBackend"
        secrets = ensure_secrets(local_cluster.layout)
        store = _s3(
            local_cluster, access_key=secrets.s3_access_key, secret_key=secrets.s3_secret_key
        )
        written = store.get_file_info(fs.FileSelector(path.removeprefix("s3://")))
        assert any(f.base_name == "_metadata" for f in written)
    finally:
        _rest(local_cluster, f"/jobs/{job}?mode=cancel", method="PATCH")
        if launched:
            close_gateway()


def test_secrets_are_private_and_shown_nowhere(started: SessionCluster, tmp_path: Path) -> None:
    cluster = started.cluster
    layout: ClusterLayout = cluster.layout
    assert layout.secrets_dir.stat().st_mode & 0o777 == 0o700
    for path in layout.secrets_dir.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
    secrets = ensure_secrets(layout)
    values = secrets.values()
    env = {"KAPPANB_CONFIG": str(cluster.profile_file), "KAPPANB_HOME": str(tmp_path)}
    outputs = [
        "\n".join(started.said),
        str(started.first_up),
        str(cluster.status()),
        json.dumps(cluster.status().to_dict()),
        cluster.profile_file.read_text(),
        *(
            p.stdout + p.stderr
            for p in (
                cli("cluster", "status", "--home", str(layout.home), env={}),
                cli("--profile", PROFILE_NAME, "status", env=env),
            )
        ),
    ]
    for value in values:
        assert all(value not in text for text in outputs)
    files = [
        p
        for p in layout.home.rglob("*")
        if p.is_file() and layout.secrets_dir not in p.parents and not p.name.endswith(".sock")
    ]
    assert any(p.suffix == ".log" for p in files)
    leaked = [str(p) for p in files for v in values if v.encode() in p.read_bytes()]
    # SeaweedFS logs the access key id (an identity's name, as AWS shows it in its logs);
    # the password and the secret key are in no file but their own.
    store_logs = layout.object_store_logs
    named = [str(p) for p in files if store_logs in p.parents]
    assert not [f for f in leaked if f not in named], f"a secret is in {leaked}"
    assert not [
        str(p)
        for p in files
        for v in (secrets.kafka_password, secrets.s3_secret_key)
        if v.encode() in p.read_bytes()
    ]


def test_down_stops_every_process_it_started(local_cluster: LocalCluster) -> None:
    """The last test: the session's cluster is down after it."""
    pids = [s.pid for s in local_cluster.status().services if s.pid]
    assert len(pids) == len(SERVICES)
    outcome = local_cluster.down()
    assert set(outcome.outcomes) == set(SERVICES)
    assert all(o in ("stopped", "killed") for o in outcome.outcomes.values()), outcome
    left = {p: psutil.Process(p).cmdline()[:3] for p in pids if psutil.pid_exists(p)}
    assert not left, left
    assert not list(local_cluster.layout.run_dir.glob("*.pid"))
    status = local_cluster.status()
    assert {s.state for s in status.services} == {"stopped"}
    assert "not running: start it with `kappanb cluster up`" in str(status)
    assert set(local_cluster.down().outcomes.values()) == {"not running"}
