"""Reading profiles: the file, then ``KAPPANB_*`` environment variables, then keywords.

The file is YAML, found at ``$KAPPANB_CONFIG``, else ``./.kappanb.yaml``, else
``~/.kappanb.yaml``::

    default: lab                      # the profile used when none is named
    profiles:
      lab:
        kafka:
          bootstrap_servers: broker-1:9092,broker-2:9092,broker-3:9092
          properties: {security.protocol: SASL_PLAINTEXT, sasl.mechanism: PLAIN,
                       sasl.username: kappa}
          secrets: {sasl.password: {env: KAFKA_PASSWORD}}
        flink:
          rest_url: http://jobmanager:8081
          checkpoints: s3://lake/kappanb/checkpoints
          savepoints: s3://lake/kappanb/savepoints
          job_archive: s3://lake/flink/completed-jobs   # optional: jobmanager.archive.fs.dir
        iceberg:
          uri: http://catalog:8181
          warehouse: s3://lake/warehouse
          properties: {s3.endpoint: http://objects:9000, s3.path-style-access: "true"}
          secrets: {s3.secret-access-key: {file: ~/.kappanb/s3-secret}}
        registry: kafka                 # kafka (the default): shared by all on the cluster;
                                        # local: a file in this machine's home
        local_cluster: ~/.kappanb/cluster  # only in the profile `kappanb cluster up` writes:
                                        # the home of kappanb's own local cluster

The profile is the one named (`load_profile(name)`, ``kappanb --profile``, ``%kappa profile``),
else ``$KAPPANB_PROFILE``, else the file's ``default``, else ``embedded``. A scalar of
the chosen profile can be overridden with ``KAPPANB_<SECTION>__<FIELD>``, e.g.
``KAPPANB_KAFKA__BOOTSTRAP_SERVERS``. Secrets come from the environment or a file only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import yaml

from kappanb.core.secrets import Secret, secret_from
from kappanb.exceptions import SettingsError
from kappanb.profiles.model import (
    EMBEDDED,
    FlinkConfig,
    IcebergConfig,
    KafkaConfig,
    Profile,
)

CONFIG_FILE = ".kappanb.yaml"
SECTIONS: dict[str, type[Any]] = {"kafka": KafkaConfig, "flink": FlinkConfig,
                                   "iceberg": IcebergConfig}  # fmt: skip
EXTRA_KEYS = ("home", "registry", "local_cluster")
SECRET_WORDS = ("password", "secret", "token", "credential", "private")
"""A property whose name holds one of these is a secret: refused among ``properties``."""


def config_path(env: Mapping[str, str], cwd: Path | None = None) -> Path | None:
    """The profile file in force, or None when there is none."""
    if env.get("KAPPANB_CONFIG"):
        path = Path(env["KAPPANB_CONFIG"]).expanduser()
        if not path.is_file():
            raise SettingsError(f"KAPPANB_CONFIG names {path}, which is not a file")
        return path
    for folder in (cwd or Path.cwd(), Path.home()):
        if (folder / CONFIG_FILE).is_file():
            return folder / CONFIG_FILE
    return None


def read_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"cannot read the profile file {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("profiles", {}), dict):
        raise SettingsError(f"{path}: expected `profiles:` with one mapping per profile")
    unknown = set(data) - {"default", "profiles"}
    if unknown:
        raise SettingsError(f"{path}: unknown keys {sorted(unknown)}; allowed: default, profiles")
    return data


def profile_names(env: Mapping[str, str] | None = None) -> list[str]:
    """``embedded`` and every profile of the file (for completion and messages)."""
    env = os.environ if env is None else env
    names = read_config(config_path(env)).get("profiles", {})
    return [EMBEDDED, *sorted(n for n in names if n != EMBEDDED)]


def load_profile(
    name: str | None = None, *, env: Mapping[str, str] | None = None, path: Path | None = None,
    **overrides: Mapping[str, Any],
) -> Profile:  # fmt: skip
    """The profile ``name`` (see the module's docstring for the order of sources)."""
    env = os.environ if env is None else env
    path = path or config_path(env)
    data = read_config(path)
    chosen = name or env.get("KAPPANB_PROFILE") or data.get("default") or EMBEDDED
    source = str(path) if path else "no profile file"
    home = _base_home(env)
    if chosen == EMBEDDED and EMBEDDED not in data.get("profiles", {}):
        return Profile(EMBEDDED, "embedded", home, source)
    profiles = data.get("profiles", {})
    if chosen not in profiles:
        known = ", ".join([EMBEDDED, *sorted(profiles)])
        where = f"in {path}" if path else f"(no {CONFIG_FILE} here or in your home folder)"
        raise SettingsError(f"unknown profile {chosen!r} {where}; known: {known}")
    raw = dict(profiles[chosen] or {})
    unknown = set(raw) - {*SECTIONS, *EXTRA_KEYS}
    if unknown:
        raise SettingsError(
            f"profile {chosen!r} in {source}: unknown keys {sorted(unknown)}; "
            f"allowed: {', '.join([*SECTIONS, *EXTRA_KEYS])}"
        )
    registry = raw.get("registry", "kafka")
    if registry not in ("kafka", "local"):
        raise SettingsError(
            f"profile {chosen!r} in {source}: registry is kafka (a topic of the cluster, "
            f"shared by everyone on it) or local (a file on this machine), not {registry!r}"
        )
    sections = {s: _section(chosen, s, raw.get(s), env, overrides.get(s), path) for s in SECTIONS}
    missing = [s for s, part in sections.items() if part is None]
    if missing:
        raise SettingsError(
            f"profile {chosen!r} in {source} names no {', '.join(missing)}: an external "
            "profile needs kafka, flink and iceberg"
        )
    own_home = (
        Path(str(raw["home"])).expanduser() if raw.get("home") else home / "profiles" / chosen
    )
    cluster = Path(str(raw["local_cluster"])).expanduser() if raw.get("local_cluster") else None
    return Profile(chosen, "external", own_home, source, **sections, registry=registry,
                   local_cluster=cluster)  # fmt: skip


def _base_home(env: Mapping[str, str]) -> Path:
    return (
        Path(env["KAPPANB_HOME"]).expanduser()
        if env.get("KAPPANB_HOME")
        else Path.home() / ".kappanb"
    )


def _section(
    profile: str, section: str, raw: object, env: Mapping[str, str],
    override: Mapping[str, Any] | None, path: Path | None,
) -> Any:  # fmt: skip
    """One section's dataclass from the file's mapping, the environment and keywords."""
    cls = SECTIONS[section]
    where = f"profile {profile!r}, section {section}"
    if raw is None and override is None:
        return None
    if not isinstance(raw or {}, Mapping):
        raise SettingsError(f"{where}: expected a mapping of settings")
    values: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
    allowed = {f.name for f in fields(cls)}
    for f in allowed:
        var = f"KAPPANB_{section.upper()}__{f.upper()}"
        if env.get(var):
            values[f] = env[var]
    values.update(override or {})
    unknown = set(values) - allowed
    if unknown:
        raise SettingsError(
            f"{where}: unknown settings {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    properties = {str(k): str(v) for k, v in dict(values.get("properties") or {}).items()}
    leaked = [k for k in properties if any(word in k.lower() for word in SECRET_WORDS)]
    if leaked:
        raise SettingsError(
            f"{where}: {', '.join(leaked)} is a secret: move it under `secrets:` as "
            "`{env: VARIABLE}` or `{file: PATH}`, so that no file holds its value"
        )
    values["properties"] = properties
    base = path.parent if path else None
    values["secrets"] = {
        str(k): v if isinstance(v, Secret) else secret_from(f"{section}.{k}", v, env, base)
        for k, v in dict(values.get("secrets") or {}).items()
    }
    required = [f.name for f in fields(cls) if f.default is f.default_factory is MISSING]
    absent = [f for f in required if not values.get(f)]
    if absent:
        raise SettingsError(f"{where}: {', '.join(absent)} is missing")
    state = values.get("state_backend")
    if state is not None and state not in ("rocksdb", "hashmap"):
        raise SettingsError(f"{where}: state_backend is rocksdb or hashmap, not {state!r}")
    return cls(**values)
