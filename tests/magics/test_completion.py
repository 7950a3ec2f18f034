"""Tab completion of `%kappa` in a real IPython shell, from the registry (no stack needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from kappanb.core.schema import Column
from kappanb.registry.records import JobVersion, TopicSpec
from kappanb.registry.store import LocalRegistry


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("KAPPANB_HOME", str(tmp_path))
    registry = LocalRegistry(tmp_path / "registry.sqlite")
    registry.put_topic(TopicSpec("payments.captured.v1", "payments", (Column("a", "STRING"),)))
    for digest in ("one", "two"):
        registry.add_version(JobVersion("daily_merchants", 0, "sql", "SELECT 1", digest, ""))
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "kappanb")
    yield ip
    InteractiveShell.clear_instance()


def matches(shell: InteractiveShell, line: str) -> list[str]:
    _text, found = shell.complete("", line, len(line))
    return list(found)


def test_subcommands_names_versions_and_flags_complete(shell: InteractiveShell) -> None:
    assert {"replay", "resume", "read"} <= set(matches(shell, "%kappa re"))
    assert "daily_merchants" in matches(shell, "%kappa run da")
    assert {"v1", "v2"} <= set(matches(shell, "%kappa replay daily_merchants v"))
    assert "payments.captured.v1" in matches(shell, "%kappa produce pay")
    assert "--until" in matches(shell, "%kappa replay daily_merchants --un")
    assert "archive" in matches(shell, "%kappa replay daily_merchants --from ar")
    assert {"earliest", "earliest-available"} <= set(
        matches(shell, "%kappa replay daily_merchants --from ")
    )
    assert "latest" in matches(shell, "%kappa replay daily_merchants --until l")
    assert "--savepoint" in matches(shell, "%kappa stop daily_merchants v1 --sa")
    assert "daily_merchants" in matches(shell, "%%kappa job da")
