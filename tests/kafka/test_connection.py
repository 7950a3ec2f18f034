"""One Kafka connection for every client and Flink table: configs, secrets that never show,
and the replication of new topics (units: no broker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kappanb.core.positions import ReadRange
from kappanb.core.schema import parse_columns
from kappanb.core.secrets import Secret, redact, redacted_errors
from kappanb.exceptions import SettingsError, TopicError
from kappanb.kafka.connection import FLINK_KAFKA_SHADED, KafkaConnection
from kappanb.kafka.topics import replication_for
from kappanb.profiles.model import KafkaConfig
from kappanb.registry.records import TopicSpec
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.catalog import CatalogLocation
from kappanb.versions.ddl import source_statements
from kappanb.versions.malformed import dlq_sink_ddl

PASSWORD = "s3cr3t-'quoted'-\"and\"-\\back"
"""A password with every character the JAAS line and a SQL literal escape."""
BROKERS = "b1:9093,b2:9093,b3:9093"
PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"


def sasl(
    mechanism: str = "PLAIN", protocol: str = "SASL_PLAINTEXT", **more: str
) -> KafkaConnection:
    properties = {"security.protocol": protocol, "sasl.mechanism": mechanism,
                  "sasl.username": "kappa", **more}  # fmt: skip
    return KafkaConnection(BROKERS, properties, {"sasl.password": Secret("$KAFKA_PW", PASSWORD)})


TOPIC = TopicSpec("orders.v1", "orders", parse_columns("id STRING, ts TIMESTAMP(3)"), "ts")


def test_the_embedded_connection_is_the_brokers_and_nothing_else() -> None:
    plain = KafkaConnection.plain("127.0.0.1:9092")
    assert plain.client_config() == {"bootstrap.servers": "127.0.0.1:9092"}
    assert plain.client_config({"group.id": "g"}, log_level=3) == {
        "bootstrap.servers": "127.0.0.1:9092", "group.id": "g", "log_level": 3,
    }  # fmt: skip
    assert plain.java_properties() == {}
    assert plain.flink_options() == {"properties.bootstrap.servers": "127.0.0.1:9092"}
    assert str(plain) == "127.0.0.1:9092"
    assert plain.redact("anything") == "anything"


def test_sasl_plain_reaches_confluent_kafka_and_java_clients_alike() -> None:
    connection = sasl()
    assert connection.client_config(log_level=3) == {
        "bootstrap.servers": BROKERS, "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN", "sasl.username": "kappa", "sasl.password": PASSWORD,
        "log_level": 3,
    }  # fmt: skip
    java = connection.java_properties()
    escaped = PASSWORD.replace("\\", "\\\\").replace('"', '\\"')
    assert java == {
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
        "sasl.jaas.config": f'{PLAIN_MODULE} required username="kappa" password="{escaped}";',
    }  # fmt: skip


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_scram_signs_in_with_the_scram_login_module(mechanism: str) -> None:
    java = sasl(mechanism, "SASL_SSL").java_properties()
    assert java["sasl.mechanism"] == mechanism and java["security.protocol"] == "SASL_SSL"
    assert java["sasl.jaas.config"].startswith(f'{SCRAM_MODULE} required username="kappa" ')


def test_librdkafkas_other_spelling_of_the_mechanism_is_javas_one() -> None:
    connection = KafkaConnection(
        BROKERS, {"sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "kappa"},
        {"sasl.password": Secret("$KAFKA_PW", PASSWORD)},
    )  # fmt: skip
    java = connection.java_properties()
    assert java["sasl.mechanism"] == "SCRAM-SHA-512" and "sasl.mechanisms" not in java
    assert SCRAM_MODULE in java["sasl.jaas.config"]


def test_a_pem_ca_file_becomes_a_pem_truststore() -> None:
    connection = KafkaConnection(
        BROKERS, {"security.protocol": "SSL", "ssl.ca.location": "/etc/kafka/ca.pem",
                  "ssl.endpoint.identification.algorithm": "none"},
    )  # fmt: skip
    assert connection.client_config()["ssl.ca.location"] == "/etc/kafka/ca.pem"
    assert connection.java_properties() == {
        "security.protocol": "SSL", "ssl.truststore.type": "PEM",
        "ssl.truststore.location": "/etc/kafka/ca.pem", "ssl.endpoint.identification.algorithm": "",
    }  # fmt: skip


def test_a_mechanism_without_a_password_login_is_refused_with_what_to_use() -> None:
    with pytest.raises(SettingsError, match="use one of PLAIN, SCRAM-SHA-256") as caught:
        sasl("GSSAPI").java_properties()
    assert PASSWORD not in str(caught.value)


def test_flink_tables_name_the_login_module_where_the_connector_jar_shades_it() -> None:
    options = sasl("SCRAM-SHA-512", "SASL_SSL", **{"ssl.ca.location": "/ca.pem"}).flink_options()
    assert options["properties.bootstrap.servers"] == BROKERS
    assert options["properties.security.protocol"] == "SASL_SSL"
    assert options["properties.sasl.mechanism"] == "SCRAM-SHA-512"
    assert options["properties.sasl.jaas.config"].startswith(FLINK_KAFKA_SHADED + SCRAM_MODULE)
    assert options["properties.ssl.truststore.location"] == "/ca.pem"
    assert not any(k.startswith("properties.sasl.password") for k in options)
    assert all(k.startswith("properties.") for k in options)


def test_the_profiles_kafka_section_is_the_connection() -> None:
    assert KafkaConfig is KafkaConnection


def endpoints(connection: KafkaConnection, tmp_path: Path) -> Endpoints:
    catalog = CatalogLocation("kappanb", tmp_path / "catalog.db", tmp_path / "warehouse")
    return Endpoints(connection, "http://127.0.0.1:1", catalog, tmp_path / "lib")


def test_no_str_or_repr_shows_a_secret(tmp_path: Path) -> None:
    connection = sasl()
    shown = [str(connection), repr(connection), repr(endpoints(connection, tmp_path)),
             str(endpoints(connection, tmp_path))]  # fmt: skip
    for text in shown:
        assert PASSWORD not in text and "s3cr3t" not in text
    assert "sasl.password=<secret from $KAFKA_PW>" in str(connection)
    assert BROKERS in str(connection) and "sasl.username=kappa" in str(connection)
    assert endpoints(connection, tmp_path).bootstrap_servers == BROKERS
    assert hash(connection) == hash(sasl())  # Endpoints stays hashable


def test_the_generated_ddl_holds_the_secret_for_flink_and_redacted_shows_none() -> None:
    connection = sasl()
    statements = [*source_statements(TOPIC, connection, "g", ReadRange()),
                  dlq_sink_ddl(TOPIC, connection)]  # fmt: skip
    for ddl in (statements[0], statements[-1]):
        assert "'properties.sasl.jaas.config' = " in ddl
        assert "s3cr3t" in ddl  # Flink needs it: the statement goes to Flink only
        shown = connection.redact(ddl)
        assert "s3cr3t" not in shown
        assert 'password="<secret from $KAFKA_PW>"' in shown


def test_redact_takes_every_form_of_the_value_out() -> None:
    secrets = {"sasl.password": Secret("$KAFKA_PW", PASSWORD)}
    escaped = PASSWORD.replace("\\", "\\\\").replace('"', '\\"')
    for form in (PASSWORD, escaped, PASSWORD.replace("'", "''"), escaped.replace("'", "''")):
        assert redact(f"before {form} after", secrets) == "before <secret from $KAFKA_PW> after"
    assert redact("nothing secret", {"empty": Secret("$E", "")}) == "nothing secret"


def test_an_error_that_would_show_a_secret_is_raised_again_redacted() -> None:
    secrets = {"sasl.password": Secret("$KAFKA_PW", PASSWORD)}
    with pytest.raises(TopicError) as caught, redacted_errors(secrets):
        raise TopicError(f"Flink said: password={PASSWORD}")
    assert str(caught.value) == "Flink said: password=<secret from $KAFKA_PW>"
    with pytest.raises(TopicError, match="no secret here"), redacted_errors(secrets):
        raise TopicError("no secret here")


@pytest.mark.parametrize(
    ("brokers", "expected"),
    [
        (1, (1, {})),
        (2, (2, {})),
        (3, (3, {"min.insync.replicas": "2"})),
        (5, (3, {"min.insync.replicas": "2"})),
    ],
)
def test_new_topics_get_three_copies_when_the_cluster_has_three_brokers(
    brokers: int, expected: tuple[int, dict[str, str]]
) -> None:
    assert replication_for(brokers) == expected


def test_a_replication_factor_asked_for_is_kept_or_refused_with_the_broker_count() -> None:
    assert replication_for(5, wanted=1) == (1, {})
    assert replication_for(5, wanted=4) == (4, {"min.insync.replicas": "2"})
    with pytest.raises(TopicError, match="the cluster has 1: ask for at most 1"):
        replication_for(1, wanted=3)
    with pytest.raises(TopicError, match="at least one copy"):
        replication_for(3, wanted=0)
