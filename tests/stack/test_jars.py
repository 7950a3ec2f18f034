from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from kappanb.exceptions import JarResolutionError, JarVerificationError, MavenNotFoundError
from kappanb.stack.jars import PROFILES, JarCache, read_lock, verify
from tests.helpers import settings_for


def _folder_with(tmp_path: Path, files: dict[str, bytes]) -> tuple[Path, dict[str, dict[str, str]]]:
    lock: dict[str, dict[str, str]] = {p: {} for p in PROFILES}
    for rel, content in files.items():
        profile, name = rel.split("/")
        (tmp_path / profile).mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(content)
        lock[profile][name] = hashlib.sha256(content).hexdigest()
    return tmp_path, lock


def test_lock_pins_the_stack_jars() -> None:
    lock = read_lock()
    kafka, flink = lock["kafka"], lock["flink"]
    assert any(n.startswith("kafka_2.13-4.") for n in kafka)
    assert any(n.startswith("log4j-core-2.") for n in kafka)
    assert any(n.startswith("flink-sql-connector-kafka-") and n.endswith("-2.0.jar") for n in flink)
    assert any(n.startswith("iceberg-flink-runtime-2.0-") for n in flink)
    assert any(n.startswith("hadoop-client-api-") for n in flink)
    assert any(n.startswith("hadoop-client-runtime-") for n in flink)
    assert any(n.startswith("sqlite-jdbc-") for n in flink)
    assert all(len(d) == 64 for files in lock.values() for d in files.values())


def test_verify_accepts_exact_folder_and_names_every_problem(tmp_path: Path) -> None:
    root, lock = _folder_with(tmp_path, {"kafka/a.jar": b"a", "flink/b.jar": b"b"})
    verify(root, lock)
    (root / "kafka" / "a.jar").write_bytes(b"tampered")
    (root / "flink" / "b.jar").unlink()
    (root / "flink" / "extra.jar").write_bytes(b"x")
    with pytest.raises(JarVerificationError) as err:
        verify(root, lock)
    text = str(err.value)
    assert "wrong checksum kafka/a.jar" in text
    assert "missing flink/b.jar" in text
    assert "unexpected flink/extra.jar" in text
    assert "kappanb setup" in text


def test_setup_is_a_no_op_when_the_cache_is_complete(tmp_path: Path) -> None:
    # The README's test command ran `kappanb setup` before the tests.
    cache = JarCache(settings_for(tmp_path))
    assert cache.is_complete()
    assert cache.ensure().resolved is False


def test_prefilled_jars_dir_is_verified_and_needs_no_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = JarCache(settings_for(tmp_path)).root
    prefilled = tmp_path / "offline-jars"
    for profile in PROFILES:
        (prefilled / profile).mkdir(parents=True)
        for jar in (real / profile).glob("*.jar"):
            (prefilled / profile / jar.name).symlink_to(jar)
    monkeypatch.setenv("PATH", "/nonexistent")  # no mvn reachable
    cache = JarCache(replace(settings_for(tmp_path), jars_dir=prefilled))
    result = cache.ensure()
    assert result.jars.root == prefilled and not result.resolved
    next(prefilled.joinpath("flink").glob("iceberg-*.jar")).unlink()
    with pytest.raises(JarVerificationError, match="missing flink/iceberg-flink-runtime"):
        JarCache(replace(settings_for(tmp_path), jars_dir=prefilled)).ensure()


def test_missing_maven_says_what_to_do_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    cache = JarCache(replace(settings_for(tmp_path), cache_dir=tmp_path / "empty-cache"))
    with pytest.raises(MavenNotFoundError) as err:
        cache.ensure()
    assert "apt-get install maven" in str(err.value)
    assert "KAPPANB_JARS_DIR" in str(err.value)
    assert not cache.root.exists()
    assert list(cache.root.parent.iterdir()) == []  # no half-filled staging folder left


def test_unreachable_artifacts_point_at_maven_settings_and_leave_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A user whose settings.xml sends everything to a mirror that does not answer.
    m2 = tmp_path / "user-home" / ".m2"
    m2.mkdir(parents=True)
    (m2 / "settings.xml").write_text(
        "<settings><localRepository>" + str(tmp_path / "empty-repo") + "</localRepository>"
        "<mirrors><mirror><id>dead</id><mirrorOf>*</mirrorOf>"
        "<url>http://127.0.0.1:9/maven2</url></mirror></mirrors></settings>"
    )
    monkeypatch.setenv("MAVEN_OPTS", f"-Duser.home={tmp_path / 'user-home'}")
    cache = JarCache(replace(settings_for(tmp_path), cache_dir=tmp_path / "cache"))
    with pytest.raises(JarResolutionError) as err:
        cache.ensure()
    text = str(err.value)
    assert "Maven could not resolve the kafka jars" in text
    assert "~/.m2/settings.xml" in text and "KAPPANB_JARS_DIR" in text
    assert "127.0.0.1:9" in text  # Maven's own error line, naming the mirror it tried
    assert not cache.root.exists()
    assert list(cache.root.parent.iterdir()) == []
