from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kappanb.exceptions import JavaNotFoundError
from kappanb.stack.java import find_java


def _fake_java(folder: Path, version_line: str) -> Path:
    java = folder / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(0o755)
    return java


def test_real_java_is_17_or_newer() -> None:
    runtime = find_java()
    assert runtime.major >= 17
    assert runtime.executable.is_file()


def test_missing_java_on_path_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(JavaNotFoundError) as err:
        find_java({"PATH": str(tmp_path)})
    message = str(err.value)
    assert "Java was not found on PATH" in message
    assert "JDK 17" in message and "JAVA_HOME" in message


def test_java_home_without_java_is_named(tmp_path: Path) -> None:
    with pytest.raises(JavaNotFoundError, match=f"JAVA_HOME={tmp_path} has no bin/java"):
        find_java({"JAVA_HOME": str(tmp_path), "PATH": "/usr/bin"})


def test_old_java_is_refused_with_its_version(tmp_path: Path) -> None:
    _fake_java(tmp_path, 'openjdk version "11.0.2" 2019-01-15')
    with pytest.raises(JavaNotFoundError, match="Java 11 found via JAVA_HOME"):
        find_java({"JAVA_HOME": str(tmp_path)})


def test_java_8_version_scheme_is_understood(tmp_path: Path) -> None:
    _fake_java(tmp_path, 'java version "1.8.0_392"')
    with pytest.raises(JavaNotFoundError, match="Java 8 found"):
        find_java({"JAVA_HOME": str(tmp_path)})


def test_java_from_path_is_used_when_java_home_is_unset() -> None:
    system_java = shutil.which("java")
    assert system_java is not None
    runtime = find_java({"PATH": str(Path(system_java).parent)})
    assert runtime.executable == Path(system_java)
