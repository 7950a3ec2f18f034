"""The cluster's registry when its brokers do not answer (no Kafka at all): reads answer
from this machine's copy, changes and the check before a switch are refused."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from kappanb.exceptions import RegistryUnreachableError
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.log import RegistryLog
from kappanb.registry.shared import LogRegistry
from tests.registry.test_events import _applied, _log
from tests.registry.test_store import _draft


def _nobody() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def test_without_brokers_reads_answer_from_the_cache_and_changes_are_refused(
    tmp_path: Path,
) -> None:
    _applied(tmp_path / "cache.sqlite", _log())  # what this machine read while it could
    dead = _nobody()
    log = RegistryLog(KafkaConnection.plain(dead), "_kappanb.registry", timeout=1.0)
    registry = LogRegistry(log, tmp_path / "cache.sqlite")
    assert [t.name for t in registry.topics()] == ["pay"]
    assert [v.version for v in registry.versions("j")] == [1, 2]
    assert registry.serving("j") is not None
    with pytest.raises(
        RegistryUnreachableError, match=f"registry's topic _kappanb.registry on {dead}"
    ):
        registry.add_version(_draft("j", "d3"))
    published: list[str] = []
    with pytest.raises(RegistryUnreachableError):
        registry.switch("j", 1, "j__v1", kind="rollback", expect_from=2,
                        also=lambda: published.append("j__v1"))  # fmt: skip
    assert published == []  # the catalog's mirror is not touched on a stale view
    with pytest.raises(RegistryUnreachableError), registry.job_lock("j", "promote j v3"):
        pass
    assert [v.version for v in registry.versions("j")] == [1, 2]
