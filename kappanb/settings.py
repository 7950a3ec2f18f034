"""Settings of the embedded stack, in one typed place.

Resolution order: defaults, then environment variables (``KAPPANB_*``), then
keyword arguments. Nothing else in kappanb reads the environment for these.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kappanb.exceptions import SettingsError
from kappanb.tables.maintenance import MaintenancePolicy

DEFAULT_PORTS: dict[str, int] = {
    "kafka": 9092,
    "kafka_controller": 9093,
    "flink_rest": 8081,
    "flink_rpc": 6123,
}

_PORT_ENV = {
    "kafka": "KAPPANB_KAFKA_PORT",
    "kafka_controller": "KAPPANB_KAFKA_CONTROLLER_PORT",
    "flink_rest": "KAPPANB_FLINK_REST_PORT",
    "flink_rpc": "KAPPANB_FLINK_RPC_PORT",
}


def default_home() -> Path:
    """Where the stack keeps its state when KAPPANB_HOME is not set."""
    return Path.home() / ".kappanb"


def default_cache_dir() -> Path:
    """Per-user cache for resolved jars (shared by every kappanb home)."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "kappanb"


@dataclass(frozen=True)
class StackSettings:
    """Everything the embedded stack can be told."""

    home: Path = field(default_factory=default_home)
    cache_dir: Path = field(default_factory=default_cache_dir)
    jars_dir: Path | None = None
    """A pre-filled jar folder (``kafka/`` and ``flink/``) for offline machines."""
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    explicit_ports: frozenset[str] = frozenset()
    """Ports the user chose: a taken one is an error, not a reason to pick another."""
    task_slots: int = 4
    jobmanager_memory: str = "1024m"
    taskmanager_memory: str = "2048m"
    kafka_heap: str = "768m"
    start_timeout: float = 120.0
    stop_timeout: float = 30.0
    catalog_name: str = "kappanb"
    checkpoint_interval: str = "10 s"
    """How often jobs checkpoint; output tables commit on each checkpoint."""
    watermark_idle_timeout: str | None = None
    """A partition that gives a job no record for this long stops holding its watermark;
    None: kappanb's default, `IDLE_TIMEOUT`."""
    flink_overrides: Mapping[str, Any] = field(default_factory=dict)
    """Flink configuration the embedded cluster gets over kappanb's own (key: value, as
    in Flink's config.yaml), applied when its JobManager starts."""
    table_maintenance: MaintenancePolicy | None = field(default_factory=MaintenancePolicy)
    """How Flink maintains the output tables of unbounded runs it creates (compaction,
    snapshot expiry, orphan files: `kappanb.tables.maintenance`); on by default,
    ``KAPPANB_TABLE_MAINTENANCE=off`` (or None) turns it off for the tables created then,
    and `compact` still does it on demand."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> StackSettings:
        """Defaults, overridden by ``KAPPANB_*`` variables, overridden by keywords."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if env.get("KAPPANB_HOME"):
            values["home"] = Path(env["KAPPANB_HOME"]).expanduser()
        if env.get("KAPPANB_CACHE_DIR"):
            values["cache_dir"] = Path(env["KAPPANB_CACHE_DIR"]).expanduser()
        if env.get("KAPPANB_JARS_DIR"):
            values["jars_dir"] = Path(env["KAPPANB_JARS_DIR"]).expanduser()
        if env.get("KAPPANB_TASK_SLOTS"):
            values["task_slots"] = _positive_int("KAPPANB_TASK_SLOTS", env["KAPPANB_TASK_SLOTS"])
        if env.get("KAPPANB_CHECKPOINT_INTERVAL"):
            values["checkpoint_interval"] = env["KAPPANB_CHECKPOINT_INTERVAL"]
        if env.get("KAPPANB_WATERMARK_IDLE_TIMEOUT"):
            values["watermark_idle_timeout"] = _duration(
                "KAPPANB_WATERMARK_IDLE_TIMEOUT", env["KAPPANB_WATERMARK_IDLE_TIMEOUT"]
            )
        if env.get("KAPPANB_TABLE_MAINTENANCE"):
            on = _switch("KAPPANB_TABLE_MAINTENANCE", env["KAPPANB_TABLE_MAINTENANCE"])
            values["table_maintenance"] = MaintenancePolicy() if on else None
        ports = dict(DEFAULT_PORTS)
        explicit: set[str] = set()
        for name, var in _PORT_ENV.items():
            if env.get(var):
                ports[name] = _positive_int(var, env[var])
                explicit.add(name)
        values["ports"] = ports
        values["explicit_ports"] = frozenset(explicit)
        return cls(**{**values, **overrides})

    def with_ports(self, **ports: int) -> StackSettings:
        """A copy with some ports chosen explicitly."""
        merged = {**self.ports, **ports}
        return replace(self, ports=merged, explicit_ports=self.explicit_ports | set(ports))


IDLE_TIMEOUT = "30 s"
"""Flink judges a Kafka partition idle by time alone: from the moment its split is assigned
(before the consumer has its metadata and has reached the partition's broker), and while
its fetched records wait behind other partitions' on a starved machine. A partition judged
idle while it still has records to give lets the others carry the watermark past them:
they come late. Seen at 5 s: on a cluster of several brokers (notebook 02's live run started
on a backlog, a quarter of each hour counted) and on the embedded stack of a loaded machine
(a live run and a replay side by side, 32 to 106 of 599 hourly windows short after a
TaskManager kill); docs/reliability.md, "Watermarks". The cost: windows wait up to this long
for a partition that has fallen quiet (an empty one, or the quiet ones at the end of a burst
before the topic's clock carries the watermark on)."""


def idle_timeout_for(settings: StackSettings) -> str:
    """The idle timeout a run gets: the one set (`KAPPANB_WATERMARK_IDLE_TIMEOUT`), else
    `IDLE_TIMEOUT`, on every stack."""
    return settings.watermark_idle_timeout or IDLE_TIMEOUT


def _duration(name: str, raw: str) -> str:
    """A duration as Flink reads it (``5 s``, ``500 ms``, ``1 min``)."""
    if not re.fullmatch(r"\s*[0-9]+\s*(ms|s|min|h)\s*", raw):
        raise SettingsError(f"{name}={raw!r} is not a duration like '5 s', '500 ms' or '1 min'")
    return raw.strip()


def _switch(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise SettingsError(f"{name}={raw!r} is neither 'on' nor 'off'")


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be positive")
    return value
