"""The Spark reader's jar list: its lock file, and its command line tried the wrong way."""

from __future__ import annotations

import pytest

from kappanb.stack import spark_jars


def test_the_lock_pins_the_iceberg_spark_runtime_and_the_sqlite_driver() -> None:
    lock = spark_jars.read_lock()
    assert sorted(name.rsplit("-", 1)[0] for name in lock) == [
        "iceberg-spark-runtime-4.0_2.13",
        "sqlite-jdbc",
    ]
    assert all(len(digest) == 64 for digest in lock.values())


def test_an_unknown_argument_is_refused_saying_what_the_command_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert spark_jars._main(["jars"]) == 2
    said = capsys.readouterr()
    assert "unknown argument 'jars'" in said.err and "spark.jars" in said.err
    assert said.out == ""
