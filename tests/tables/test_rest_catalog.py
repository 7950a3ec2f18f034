"""The Iceberg REST catalog kind: its Flink DDL and pyiceberg properties, and no secret shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kappanb.core.schema import parse_columns
from kappanb.core.secrets import Secret, redacted_errors
from kappanb.exceptions import FlinkSubmitError
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.records import TopicSpec
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.catalog import CatalogLocation
from kappanb.tables.rest_catalog import RestCatalogLocation
from kappanb.versions.archive_source import Handoff, history_ddl

CREDENTIAL = "AKID:cat-s3cr'et"
S3_SECRET = "s3-very-secret-key"
FLINK_SECRET = "flink-s3-secret"
PROPERTIES = {
    "rest.auth.type": "oauth2",
    "oauth2-server-uri": "http://127.0.0.1:8181/v1/oauth/tokens",
    "io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
    "s3.endpoint": "http://127.0.0.1:8333",
    "s3.path-style-access": "true",
    "client.region": "us-east-1",
}


def rest() -> RestCatalogLocation:
    return RestCatalogLocation(
        "kappanb", "http://127.0.0.1:8181", "s3://warehouse", PROPERTIES,
        {"credential": Secret("$CAT", CREDENTIAL),
         "s3.secret-access-key": Secret("/secrets/s3", S3_SECRET)},
    )  # fmt: skip


def options(ddl: str) -> dict[str, str]:
    """The WITH options of a CREATE CATALOG statement, literals unquoted."""
    pairs = re.findall(r"'((?:[^']|'')*)' = '((?:[^']|'')*)'", ddl)
    return {k.replace("''", "'"): v.replace("''", "'") for k, v in pairs}


def test_the_flink_ddl_is_a_rest_catalog_with_every_property_and_the_secrets() -> None:
    ddl = rest().flink_ddl()
    assert ddl.startswith("CREATE CATALOG IF NOT EXISTS `kappanb` WITH (")
    got = options(ddl)
    assert got == {
        "type": "iceberg", "catalog-type": "rest", "default-database": "default",
        "uri": "http://127.0.0.1:8181", "warehouse": "s3://warehouse", **PROPERTIES,
        "credential": CREDENTIAL, "s3.secret-access-key": S3_SECRET,
    }  # fmt: skip
    assert "'cat-s3cr''et'" not in ddl and "cat-s3cr''et" in ddl  # the quote doubled
    assert rest().flink_properties() == got  # what a replay's Iceberg connector table gets


def test_a_replay_from_the_archive_reaches_the_rest_catalog_as_the_session_does() -> None:
    handoff = Handoff("rides.v1", 5, {0: 3})
    topic = TopicSpec("rides.v1", "rides", parse_columns("id BIGINT"))
    text = history_ddl(topic, handoff, "kappanb", rest().flink_properties())
    got = options(text)
    assert got["connector"] == "iceberg" and got["catalog-type"] == "rest"
    assert got["uri"] == "http://127.0.0.1:8181" and got["warehouse"] == "s3://warehouse"
    assert got["credential"] == CREDENTIAL and got["s3.secret-access-key"] == S3_SECRET
    assert "type" not in got and "default-database" not in got


def test_pyiceberg_gets_the_same_properties_with_the_secrets_revealed() -> None:
    properties = rest().catalog_properties()
    assert properties["uri"] == "http://127.0.0.1:8181"
    assert properties["warehouse"] == "s3://warehouse"
    assert properties["credential"] == CREDENTIAL
    assert properties["s3.path-style-access"] == "true"


def test_neither_repr_nor_the_jdbc_kind_shows_a_secret(tmp_path: Path) -> None:
    location = rest()
    assert CREDENTIAL not in repr(location) and S3_SECRET not in repr(location)
    assert "$CAT" in repr(location)
    assert hash(location) == hash(rest())
    jdbc = CatalogLocation("kappanb", tmp_path / "c.db", tmp_path / "w")
    assert dict(jdbc.secrets) == {} and "JdbcCatalog" in jdbc.flink_ddl()


def endpoints(tmp_path: Path) -> Endpoints:
    kafka = KafkaConnection(
        "b:9092", {"sasl.username": "kappa"}, {"sasl.password": Secret("$PW", "kafka-pw")}
    )
    return Endpoints(
        kafka, "http://127.0.0.1:1", rest(), tmp_path / "lib",
        flink_secrets={"s3.secret-key": Secret("/secrets/flink", FLINK_SECRET)},
    )  # fmt: skip


def test_endpoints_redact_the_catalogs_flink_and_kafka_secrets(tmp_path: Path) -> None:
    ep = endpoints(tmp_path)
    text = f"{ep.catalog.flink_ddl()}\nkafka-pw, {FLINK_SECRET}"
    shown = ep.redact(text)
    for secret in (CREDENTIAL, "cat-s3cr''et", S3_SECRET, FLINK_SECRET, "kafka-pw"):
        assert secret not in shown
    assert "<secret from $CAT>" in shown and "<secret from /secrets/flink>" in shown
    assert set(ep.secrets) == {
        "kafka.sasl.password", "iceberg.credential", "iceberg.s3.secret-access-key",
        "flink.s3.secret-key",
    }  # fmt: skip
    assert S3_SECRET not in repr(ep) and FLINK_SECRET not in repr(ep)
    hash(ep)


def test_an_error_that_quotes_the_catalog_ddl_is_raised_redacted(tmp_path: Path) -> None:
    ep = endpoints(tmp_path)
    with pytest.raises(FlinkSubmitError) as caught, redacted_errors(ep.secrets):
        raise FlinkSubmitError(f"Flink rejected the job: {ep.catalog.flink_ddl()}")
    assert S3_SECRET not in str(caught.value) and "cat-s3cr" not in str(caught.value)
