"""Checkpoint directories as URIs: the newest complete checkpoint of a job, and per-job
configuration of a cluster profile (no service asked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kappanb.core.secrets import Secret
from kappanb.profiles.model import FlinkConfig
from kappanb.stack.checkpoints import StateStorage, as_dir_uri, join
from kappanb.stack.external import job_config


def test_the_newest_checkpoint_with_its_metadata_is_found_on_file_uris(tmp_path: Path) -> None:
    job = tmp_path / "chk" / "abc"
    for number, complete in ((2, True), (10, True), (11, False)):
        (job / f"chk-{number}").mkdir(parents=True)
        if complete:
            (job / f"chk-{number}" / "_metadata").write_bytes(b"x")
    (job / "shared").mkdir()
    storage = StateStorage()
    found = storage.latest_checkpoint((tmp_path / "chk").as_uri(), "abc")
    assert found == f"{(job / 'chk-10').as_uri()}"
    assert storage.latest_checkpoint(tmp_path / "chk", "abc") == found  # a Path too
    assert storage.latest_checkpoint(tmp_path / "chk", "none") is None


def test_uris_join_without_doubled_slashes() -> None:
    assert as_dir_uri("s3://state/checkpoints/") == "s3://state/checkpoints"
    assert join("s3://state/savepoints", "job-v1-run3") == "s3://state/savepoints/job-v1-run3"
    assert join(Path("/tmp/sp"), "x") == "file:///tmp/sp/x"


def test_only_file_and_s3_directories_are_listed() -> None:
    with pytest.raises(ValueError, match="only file:// and s3://"):
        StateStorage().filesystem("hdfs://nn/checkpoints")


def test_a_cluster_job_carries_its_state_settings_and_the_profiles_properties() -> None:
    flink = FlinkConfig(
        "http://jm:8081", "s3://state/checkpoints", "s3://state/savepoints",
        properties={"s3.endpoint": "http://s3:8333", "table.exec.mini-batch.enabled": "true"},
        secrets={"s3.secret-key": Secret("$S3", "never-sent")},
    )  # fmt: skip
    config = job_config(flink)
    assert config == {
        "execution.checkpointing.dir": "s3://state/checkpoints",
        "execution.checkpointing.savepoint-dir": "s3://state/savepoints",
        "state.backend.type": "rocksdb",
        "execution.checkpointing.incremental": "true",
        "s3.endpoint": "http://s3:8333",
        "table.exec.mini-batch.enabled": "true",
    }
    assert "never-sent" not in str(config)
    heap = job_config(FlinkConfig("http://jm:8081", "s3://c", "s3://s", state_backend="hashmap"))
    assert heap["state.backend.type"] == "hashmap"
    assert "execution.checkpointing.incremental" not in heap
