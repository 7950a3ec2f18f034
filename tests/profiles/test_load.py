"""Profiles from the file, the environment and keywords; secrets never held in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kappanb.exceptions import SettingsError
from kappanb.profiles.load import config_path, load_profile, profile_names
from kappanb.profiles.secrets import Secret, redact

FILE = """
default: lab
profiles:
  lab:
    kafka:
      bootstrap_servers: b1:9092,b2:9092,b3:9092
      properties: {security.protocol: SASL_PLAINTEXT, sasl.mechanism: PLAIN,
                   sasl.username: kappa}
      secrets: {sasl.password: {env: LAB_KAFKA_PASSWORD}}
    flink:
      rest_url: http://jm:8081
      checkpoints: s3://lake/chk
      savepoints: s3://lake/sp
    iceberg:
      uri: http://catalog:8181
      warehouse: s3://lake/warehouse
      properties: {s3.endpoint: "http://objects:9000", s3.path-style-access: "true"}
      secrets: {s3.secret-access-key: {file: s3-secret}}
  other:
    home: /srv/kappanb-other
    kafka: {bootstrap_servers: "k:9092"}
    flink: {rest_url: "http://f:8081", checkpoints: "s3://b/c", savepoints: "s3://b/s",
            state_backend: hashmap}
    iceberg: {uri: "http://c:8181", warehouse: "s3://b/w"}
"""
PASSWORD = "pa55-w0rd-kafka"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "profiles.yaml"
    path.write_text(FILE)
    (tmp_path / "s3-secret").write_text("s3-s3cr3t\n")
    return path


def _env(config: Path, **more: str) -> dict[str, str]:
    return {"KAPPANB_CONFIG": str(config), "KAPPANB_HOME": "/h", "LAB_KAFKA_PASSWORD": PASSWORD,
            **more}  # fmt: skip


def test_the_default_profile_of_the_file_with_its_secrets(config: Path) -> None:
    lab = load_profile(env=_env(config))
    assert (lab.name, lab.kind, lab.home) == ("lab", "external", Path("/h/profiles/lab"))
    assert lab.kafka is not None and lab.flink is not None and lab.iceberg is not None
    assert lab.kafka.client_config()["sasl.password"] == PASSWORD
    assert lab.flink.state_backend == "rocksdb"  # the default on a cluster
    assert lab.iceberg.catalog_properties()["s3.secret-access-key"] == "s3-s3cr3t"
    shown = f"{lab} {lab.kafka.secrets} {lab.secrets}"
    assert PASSWORD not in shown and "s3-s3cr3t" not in shown
    assert "<secret from $LAB_KAFKA_PASSWORD>" in str(lab.kafka.secrets["sasl.password"])


def test_java_clients_get_the_same_connection(config: Path) -> None:
    kafka = load_profile(env=_env(config)).kafka
    assert kafka is not None
    java = kafka.java_properties()
    assert java["security.protocol"] == "SASL_PLAINTEXT"
    assert java["sasl.jaas.config"] == (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="kappa" password="{PASSWORD}";'
    )
    assert "sasl.password" not in java and "sasl.username" not in java


def test_name_then_environment_then_file_default_then_embedded(config: Path) -> None:
    assert load_profile("other", env=_env(config, KAPPANB_PROFILE="lab")).name == "other"
    other = load_profile(env=_env(config, KAPPANB_PROFILE="other"))
    assert other.home == Path("/srv/kappanb-other") and other.flink is not None
    assert other.flink.state_backend == "hashmap"
    assert load_profile(env=_env(config)).name == "lab"
    assert config_path({}, cwd=config.parent) is None  # not the name kappanb looks for
    assert load_profile("embedded", env=_env(config)).kind == "embedded"
    assert profile_names(_env(config)) == ["embedded", "lab", "other"]


def test_environment_and_keywords_override_the_file(config: Path) -> None:
    env = _env(config, KAPPANB_KAFKA__BOOTSTRAP_SERVERS="x1:9092,x2:9092")
    lab = load_profile(env=env, flink={"rest_url": "http://elsewhere:8081"})
    assert lab.kafka is not None and lab.kafka.bootstrap_servers == "x1:9092,x2:9092"
    assert lab.flink is not None and lab.flink.rest_url == "http://elsewhere:8081"
    assert lab.flink.checkpoints == "s3://lake/chk"  # the rest from the file


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (("sasl.username: kappa", "sasl.username: kappa, sasl.password: hunter2"),
         "sasl.password is a secret: move it under `secrets:`"),
        (("{env: LAB_KAFKA_PASSWORD}", "hunter2"), "a profile never holds a secret's value"),
        (("{env: LAB_KAFKA_PASSWORD}", "{env: NOT_SET_ANYWHERE}"),
         "environment variable NOT_SET_ANYWHERE, which is not set"),
        (("{file: s3-secret}", "{file: no-such-file}"), "cannot read"),
        (("rest_url: http://jm:8081", "rest: http://jm:8081"), "unknown settings ['rest']"),
        (("warehouse: s3://lake/warehouse", "warehouse: ''"), "warehouse is missing"),
        (("state_backend: hashmap", "state_backend: memory"), "rocksdb or hashmap"),
        (("default: lab", "default: nope"), "unknown profile 'nope'"),
    ],
)  # fmt: skip
def test_a_wrong_file_says_what_to_fix_and_never_shows_a_secret(
    config: Path, edit: tuple[str, str], says: str
) -> None:
    config.write_text(FILE.replace(*edit))
    env = _env(config)
    with pytest.raises(SettingsError) as caught:
        load_profile("other" if "hashmap" in edit[0] else None, env=env)
    assert says in str(caught.value)
    assert "hunter2" not in str(caught.value) and PASSWORD not in str(caught.value)


def test_an_unknown_profile_lists_the_known_ones(config: Path) -> None:
    with pytest.raises(SettingsError, match=r"unknown profile 'prod' in .*; known: embedded, lab"):
        load_profile("prod", env=_env(config))
    with pytest.raises(SettingsError, match=r"KAPPANB_CONFIG names .* which is not a file"):
        load_profile(env={"KAPPANB_CONFIG": str(config.parent / "missing.yaml")})


def test_redact_replaces_every_secret_value() -> None:
    secret = Secret("$PW", "s3cr3t")
    assert redact("auth failed for s3cr3t at b1", {"k": secret}) == (
        "auth failed for <secret from $PW> at b1"
    )


def test_a_cluster_profiles_registry_is_its_kafka_log_unless_it_says_local(
    config: Path, tmp_path: Path
) -> None:
    from kappanb.registry.log import REGISTRY_TOPIC
    from kappanb.stack.external import ExternalStack

    lab = load_profile("lab", env=_env(config))
    assert lab.registry == "kafka"
    places = ExternalStack(lab).places  # no I/O: where things are, not whether they answer
    assert places.registry_log is not None and places.registry_log.topic == REGISTRY_TOPIC
    assert places.registry_log.kafka == lab.kafka
    assert places.registry_db == Path("/h/profiles/lab/registry-cache.sqlite")
    config.write_text(FILE.replace("  other:\n", "    registry: local\n  other:\n"))
    local = ExternalStack(load_profile("lab", env=_env(config))).places
    assert local.registry_log is None
    assert local.registry_db == Path("/h/profiles/lab/registry.sqlite")
    config.write_text(FILE.replace("  other:\n", "    registry: zookeeper\n  other:\n"))
    with pytest.raises(SettingsError, match=r"registry is kafka .* or local .*, not 'zookeeper'"):
        load_profile("lab", env=_env(config))


def test_only_a_profile_naming_a_local_cluster_is_one_kappanb_runs(config: Path) -> None:
    assert load_profile("lab", env=_env(config)).local_cluster is None
    config.write_text(FILE.replace("  other:\n", "    local_cluster: ~/lab-cluster\n  other:\n"))
    lab = load_profile("lab", env=_env(config))
    assert lab.local_cluster == Path("~/lab-cluster").expanduser()
    config.write_text(FILE.replace("  other:\n", "    cluster_home: /c\n  other:\n"))
    with pytest.raises(SettingsError, match=r"unknown keys \['cluster_home'\].*local_cluster"):
        load_profile("lab", env=_env(config))
