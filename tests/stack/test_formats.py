"""kappanb's kappa-json format: compiled once per source digest into the cache."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from kappanb.stack.flink_cluster import flink_dist
from kappanb.stack.formats import JAR_NAME, formats_jar, source_digest


@pytest.mark.slow
def test_the_format_is_compiled_once_with_its_factory_registered(tmp_path: Path) -> None:
    lib = flink_dist() / "lib"
    said: list[str] = []
    jar = formats_jar(tmp_path, lib, said.append)
    assert jar == tmp_path / "formats" / source_digest(lib) / JAR_NAME
    with zipfile.ZipFile(jar) as content:
        names = set(content.namelist())
        service = content.read("META-INF/services/org.apache.flink.table.factories.Factory")
    assert "dev/kappanb/formats/KappaJsonFormatFactory.class" in names
    assert service.decode().strip() == "dev.kappanb.formats.KappaJsonFormatFactory"
    assert len(said) == 1 and "compiling" in said[0]
    assert formats_jar(tmp_path, lib, said.append) == jar  # cached: no second compile
    assert len(said) == 1


def test_the_digest_follows_the_flink_jars(tmp_path: Path) -> None:
    (tmp_path / "flink-dist-2.0.2.jar").write_bytes(b"")
    before = source_digest(tmp_path)
    (tmp_path / "flink-dist-2.0.3.jar").write_bytes(b"")
    assert source_digest(tmp_path) != before
