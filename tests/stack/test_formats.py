"""kappanb's kappa-json format: compiled once per source digest into the cache."""

from __future__ import annotations

import os
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kappanb.kafka.records import parse_timestamp
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


_TIMESTAMP_PROBE = """
package dev.kappanb.formats;

public final class TimestampProbe {
    public static void main(String[] args) throws Exception {
        java.io.BufferedReader in = new java.io.BufferedReader(
                new java.io.InputStreamReader(System.in, "UTF-8"));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            try {
                org.apache.flink.table.data.TimestampData t = Timestamps.parse(line, 6);
                System.out.println(t.getMillisecond() + " " + t.getNanoOfMillisecond());
            } catch (Timestamps.BadTimestamp e) {
                System.out.println("! " + e.getMessage());
            }
        }
    }
}
"""
FORMS = [
    "2026-01-05T05:37:08.809",  # datetime.isoformat() with milliseconds
    "2026-01-05 05:37:08.809",  # SQL
    "2026-01-05T05:37:08",
    "2026-01-05t05:37",
    "2026-01-05T05:37:08.8",
    "2026-01-05T05:37:08.123456",
    "2026-01-05T05:37:08.123456789",
    "2026-01-05T05:37:08Z",
    "2026-01-05T05:37:08.809z",
    "2026-01-05T05:37:08.809+05:30",
    "2026-01-05 05:37:08-0800",
    "2026-01-05T05:37:08+01",
    "1969-12-31T23:59:59.9999995",
    "2024-02-29T00:00:00",
]
NOT_TIMESTAMPS = [
    "2026-01-05X05:37:08", "2026-01-05", "yesterday", "", "2026-13-05T05:37:08",
    "2026-02-29T00:00:00", "2026-01-05T24:00:00", "2026-01-05T05:37:08.",
    "2026-01-05T05:37:08.1234567890", "2026-01-05T05:37:08 UTC", "2026-01-05T05:37:08+5:30",
    "2026-01-05T05:37:08+05:30Z", "1767591428809",
]  # fmt: skip


@pytest.mark.slow
def test_the_format_reads_timestamps_as_the_python_side_does(tmp_path: Path) -> None:
    """Every accepted form gives the instant Python's `parse_timestamp` gives (no offset:
    UTC; 0 to 9 fractional digits, truncated); every refused one is refused by both."""
    lib = flink_dist() / "lib"
    jar = formats_jar(tmp_path, lib)
    source = tmp_path / "dev" / "kappanb" / "formats" / "TimestampProbe.java"
    source.parent.mkdir(parents=True)
    source.write_text(_TIMESTAMP_PROBE)
    classpath = f"{jar}{os.pathsep}{lib / '*'}"
    subprocess.run(["javac", "-nowarn", "-d", str(tmp_path), "-cp", classpath, str(source)],
                   check=True)  # fmt: skip
    probe = subprocess.run(
        ["java", "-cp", f"{tmp_path}{os.pathsep}{classpath}", "dev.kappanb.formats.TimestampProbe"],
        input="\n".join(FORMS + NOT_TIMESTAMPS) + "\n", capture_output=True, text=True, check=True,
    )  # fmt: skip
    answers = dict(zip(FORMS + NOT_TIMESTAMPS, probe.stdout.splitlines(), strict=True))
    for text in FORMS:
        moment = parse_timestamp(text)
        assert moment is not None, text
        micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        expected = f"{micros // 1000} {micros % 1000 * 1000}"  # precision 6: micros kept
        assert answers[text] == expected, (text, answers[text])
    for text in NOT_TIMESTAMPS:
        assert parse_timestamp(text) is None, text
        assert answers[text].startswith("! "), (text, answers[text])
    assert answers["2026-02-29T00:00:00"] == "! the date 2026-02-29 does not exist"
    assert answers["2026-01-05X05:37:08"] == "! character 11 is 'X', not a T or a space"
