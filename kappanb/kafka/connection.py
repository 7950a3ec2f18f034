"""How to reach a Kafka cluster: its brokers, client properties and secrets, in one object.

Every Kafka client kappanb makes (admin, producers, consumers) takes its configuration
from `KafkaConnection.client_config`, and every Flink Kafka table it declares takes its
``properties.*`` options from `KafkaConnection.flink_options`, so a cluster that asks for
SASL or TLS is reached the same way by all of them. The embedded stack's connection is
`KafkaConnection.plain`: the brokers and nothing else.

Properties use librdkafka's names (as confluent-kafka takes them, and as a profile gives
them); `java_properties` says the same to a Java client. Secrets (``sasl.password``...)
are revealed to the clients only: the connection prints with where they come from, and
`redact` takes their values out of any text (generated SQL, error messages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kappanb.core.secrets import Secret, redact
from kappanb.exceptions import SettingsError

FLINK_KAFKA_SHADED = "org.apache.flink.kafka.shaded."
"""flink-sql-connector-kafka relocates the Kafka client under this package: a JAAS line of
a Flink Kafka table must name the login module there (Flink's Kafka connector docs)."""
LOGIN_MODULES = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}
"""The Java login module of each SASL mechanism that signs in with a username and password."""


@dataclass(frozen=True)
class KafkaConnection:
    """The brokers, client properties (librdkafka's names) and secrets of a Kafka cluster."""

    bootstrap_servers: str
    properties: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, Secret] = field(default_factory=dict)

    @classmethod
    def plain(cls, bootstrap_servers: str) -> KafkaConnection:
        """Brokers without authentication or TLS (the embedded stack's)."""
        return cls(bootstrap_servers)

    def client_config(
        self, extra: Mapping[str, Any] | None = None, /, **more: Any
    ) -> dict[str, Any]:
        """For confluent-kafka: brokers, properties, the secrets' values, then ``extra``
        and ``more`` (a client's own settings, e.g. ``{"group.id": ...}``, ``log_level=3``)."""
        revealed = {k: s.reveal() for k, s in self.secrets.items()}
        return {
            "bootstrap.servers": self.bootstrap_servers, **self.properties, **revealed,
            **(extra or {}), **more,
        }  # fmt: skip

    def java_properties(self, package_prefix: str = "") -> dict[str, str]:
        """The same connection for a Java Kafka client, without the brokers: SASL username
        and password become a JAAS line (its login module under ``package_prefix``, for a
        client relocated there), a PEM CA file a PEM truststore."""
        config = {k: str(v) for k, v in self.client_config().items() if k != "bootstrap.servers"}
        if "sasl.mechanisms" in config:  # librdkafka's other spelling
            config.setdefault("sasl.mechanism", config.pop("sasl.mechanisms"))
        user, password = config.pop("sasl.username", None), config.pop("sasl.password", None)
        if user is not None and password is not None:
            mechanism = config.get("sasl.mechanism", "PLAIN").upper()
            if mechanism not in LOGIN_MODULES:
                raise SettingsError(
                    f"Kafka sasl.mechanism {mechanism} does not sign in with sasl.username "
                    f"and sasl.password; use one of {', '.join(LOGIN_MODULES)}"
                )
            module = package_prefix + LOGIN_MODULES[mechanism]
            config["sasl.jaas.config"] = (
                f'{module} required username="{_jaas(user)}" password="{_jaas(password)}";'
            )
        if "ssl.ca.location" in config:
            config["ssl.truststore.type"] = "PEM"
            config["ssl.truststore.location"] = config.pop("ssl.ca.location")
        if config.get("ssl.endpoint.identification.algorithm") == "none":
            config["ssl.endpoint.identification.algorithm"] = ""  # Java's word for none
        return config

    def flink_options(self) -> dict[str, str]:
        """What a Flink Kafka table's WITH clause needs to reach the cluster (its own
        options, ``topic``, ``format``..., come beside these). Files it names (a CA) must
        be readable where Flink's TaskManagers run."""
        java = self.java_properties(FLINK_KAFKA_SHADED)
        return {
            "properties.bootstrap.servers": self.bootstrap_servers,
            **{f"properties.{k}": v for k, v in java.items()},
        }

    def redact(self, text: str) -> str:
        """``text`` without this connection's secrets (`kappanb.core.secrets.redact`)."""
        return redact(text, self.secrets)

    def __hash__(self) -> int:  # the mappings are not hashable; what they hold is
        secrets = sorted((k, s.source) for k, s in self.secrets.items())
        return hash((self.bootstrap_servers, tuple(sorted(self.properties.items())), *secrets))

    def __str__(self) -> str:
        settings = [f"{k}={v}" for k, v in self.properties.items()]
        settings += [f"{k}={s}" for k, s in self.secrets.items()]
        return self.bootstrap_servers + (f" ({', '.join(settings)})" if settings else "")

    def __repr__(self) -> str:
        return (
            f"KafkaConnection({self.bootstrap_servers!r}, properties={dict(self.properties)!r}, "
            f"secrets={dict(self.secrets)!r})"
        )


def _jaas(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
