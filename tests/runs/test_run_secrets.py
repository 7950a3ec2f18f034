"""A run on a cluster with SASL: its statements carry the Kafka connection to Flink, and no
error, plan message or registry row shows the password (units; Flink scripted)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kappanb.core.positions import ReadRange
from kappanb.core.schema import Column, parse_columns
from kappanb.core.secrets import Secret
from kappanb.exceptions import FlinkSubmitError, JobDefinitionError
from kappanb.flink.sql import FlinkSqlClient
from kappanb.kafka.connection import FLINK_KAFKA_SHADED, KafkaConnection
from kappanb.registry.base import now
from kappanb.registry.records import JobVersion, RunRecord, TopicSpec
from kappanb.registry.store import LocalRegistry
from kappanb.runs.runs import RunLauncher, RunPlan
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.catalog import CatalogLocation
from kappanb.versions.ddl import source_statements
from kappanb.versions.definitions import plan_version

PASSWORD = "pa55'w\"rd"
KAFKA = KafkaConnection(
    "b1:9093,b2:9093,b3:9093",
    {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": "kappa"},
    {"sasl.password": Secret("$KAFKA_PW", PASSWORD)},
)
TOPIC = TopicSpec("orders.v1", "orders", parse_columns("id STRING, amount BIGINT"))
VERSION = JobVersion(
    job="totals", version=1, kind="sql", text="SELECT id, SUM(amount) AS s FROM orders GROUP BY id",
    digest="0" * 64, created_at="", output=(Column("id", "STRING"), Column("s", "BIGINT")),
    key=("id",), updating=True, sources=("orders.v1",),
)  # fmt: skip


def endpoints(tmp_path: Path) -> Endpoints:
    catalog = CatalogLocation("kappanb", tmp_path / "catalog.db", tmp_path / "warehouse")
    return Endpoints(KAFKA, "http://127.0.0.1:1", catalog, tmp_path / "lib")


def hidden(text: str) -> bool:
    return "pa55" not in text and 'w\\"rd' not in text


class EchoingTableEnv:
    """Refuses each Kafka table, quoting its options back as Flink's factories do."""

    def execute_sql(self, statement: str) -> None:
        if "'connector' = 'kafka'" in statement:
            jaas = next(line for line in statement.splitlines() if "jaas" in line)
            raise RuntimeError(
                f"org.apache.flink.table.api.ValidationException: Unsupported options {jaas}"
            )

    def create_statement_set(self) -> Any:
        return object()  # never executed: the DDL fails first


class ScriptedClient(FlinkSqlClient):
    def table_env(self, config: Mapping[str, str]) -> Any:
        return EchoingTableEnv()


def test_the_run_statements_carry_the_connection_in_flinks_names(tmp_path: Path) -> None:
    launcher = RunLauncher(endpoints(tmp_path), LocalRegistry(tmp_path / "r.sqlite"),
                           tmp_path / "chk", tmp_path / "sp", "10 s")  # fmt: skip
    plan = RunPlan(VERSION, [TOPIC], "live", ReadRange(), "totals__v1", "g", 1, 3)
    log, _view, _sink, _insert, dlq_sink, _dlq_insert = launcher.statements(plan, True)
    for table in (log, dlq_sink):
        assert "'properties.bootstrap.servers' = 'b1:9093,b2:9093,b3:9093'" in table
        assert "'properties.security.protocol' = 'SASL_PLAINTEXT'" in table
        assert f"'properties.sasl.jaas.config' = '{FLINK_KAFKA_SHADED}org.apache" in table


def test_a_refused_submission_says_why_without_the_password(tmp_path: Path) -> None:
    client = ScriptedClient(endpoints(tmp_path))
    with pytest.raises(FlinkSubmitError) as caught:
        sources = source_statements(TOPIC, KAFKA, "g", ReadRange())
        client.submit([*sources, "INSERT INTO x SELECT * FROM orders"], job_name="j")
    message = str(caught.value)
    assert message.startswith("Flink rejected the job: Unsupported options")
    assert "<secret from $KAFKA_PW>" in message and hidden(message)


def test_a_refused_plan_says_why_without_the_password(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "r.sqlite")
    registry.put_topic(TOPIC)
    client = ScriptedClient(endpoints(tmp_path))
    with pytest.raises(JobDefinitionError) as caught:
        plan_version(client, endpoints(tmp_path), registry, "totals", "SELECT id FROM orders")
    message = str(caught.value)
    assert "Unsupported options" in message and "<secret from $KAFKA_PW>" in message
    assert hidden(message)


class FailedRest:
    def find_job(self, job_id: str) -> dict[str, Any]:
        return {"jid": job_id, "state": "FAILED"}

    def root_exception(self, job_id: str) -> str:
        return f"SaslAuthenticationException: bad credentials for kappa/{PASSWORD}"


def test_a_failed_runs_cause_is_recorded_without_the_password(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "r.sqlite")
    launcher = RunLauncher(endpoints(tmp_path), registry, tmp_path / "chk", tmp_path / "sp", "10 s")
    launcher.rest = FailedRest()  # type: ignore[assignment]
    run = registry.add_run(RunRecord(
        id=0, job="j", version=1, mode="live", table="j__v1", group_id="g", start="earliest",
        until=None, flink_job_id="a" * 32, state="RUNNING", started_at=now(),
    ))  # fmt: skip
    failed = launcher.reconcile(run)
    assert failed.state == "FAILED" and failed.error is not None
    assert "bad credentials for kappa/<secret from $KAFKA_PW>" in failed.error
    assert hidden(registry.runs("j")[0].error or "")
