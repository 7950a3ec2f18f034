"""A Jupyter server with kappanb's endpoint over a home whose registry has content but
whose stack is not running (the unit tests of the endpoint)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kappanb.core.schema import Column, parse_columns
from kappanb.registry.records import JobVersion, RunRecord, TopicSpec
from kappanb.registry.store import LocalRegistry
from tests.server.jupyter import JupyterServer, jupyter_server

OUT = (Column("merchant_id", "STRING"), Column("n", "BIGINT NOT NULL"))


def seed(registry: LocalRegistry) -> None:
    """Topics pay.v1 (SQL table pay_v1) and merchants.v1 (SQL table merchant_names); job
    counts v1 and v2, v1 with a live run the registry thinks RUNNING and serving v1."""
    pay = parse_columns("payment_id STRING, merchant_id STRING, ts TIMESTAMP(3)")
    registry.put_topic(TopicSpec("pay.v1", "pay_v1", pay, event_time="ts"))
    names = parse_columns("merchant_id STRING, name STRING")
    registry.put_topic(TopicSpec("merchants.v1", "merchant_names", names, compact=True,
                                 key="merchant_id"))  # fmt: skip
    for digest, note in (("one", "first"), ("two", "captured only")):
        registry.add_version(JobVersion("counts", 0, "sql", "SELECT ...", digest, "", note=note,
                                        output=OUT, sources=("pay.v1",)))  # fmt: skip
    registry.add_run(RunRecord(
        id=0, job="counts", version=1, mode="live", table="counts__v1", group_id="g",
        start="earliest", until=None, flink_job_id="f" * 32, state="RUNNING", started_at="",
    ))  # fmt: skip
    registry.switch("counts", 1, "counts__v1", kind="first live run", expect_from=None)


@dataclass(frozen=True)
class Served:
    server: JupyterServer
    home: Path

    @property
    def registry(self) -> LocalRegistry:
        return LocalRegistry(self.home / "registry.sqlite")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("home")
    seed(LocalRegistry(home / "registry.sqlite"))
    with jupyter_server(home, tmp_path_factory.mktemp("jupyter")) as server:
        yield Served(server, home)
