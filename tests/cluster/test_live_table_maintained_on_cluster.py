"""Automatic maintenance on the cluster, with kappanb's default policy: a live GROUP BY (an
upsert table with equality deletes) under a trickle of events writes to the REST catalog
on S3, and Iceberg's Flink sink, run on the cluster's TaskManagers, commits its own
rewrites to that catalog between the job's commits. Every read equals the oracle of a
prefix of the events; after a rewrite the data files are few; `compact` on top leaves no
delete file and pyiceberg's plain scan (through the REST catalog and S3) returns the exact
rows. tests/tables/test_maintenance_live.py checks the rest of the policy (expiry,
orphans, a resumed run) on the embedded stack, with its intervals shortened."""

from __future__ import annotations

from typing import Any

import pytest

from kappanb.tables.catalog import DEFAULT_NAMESPACE, open_catalog
from kappanb.tables.maintenance import MaintenancePolicy, maintained
from kappanb.workbench import Workbench
from tests.trickle import Trickle, file_counts, oracle, sink_rewrites

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

TOPIC, SOURCE, JOB = "cluster.maintained.v1", "cluster_maintained", "cluster_maintained_totals"
SQL = f"SELECT merchant, COUNT(*) AS payments, SUM(amount) AS total FROM {SOURCE} GROUP BY merchant"
BATCHES = 40
"""At most this many batches, each a commit or more (checkpoints every 2 s): the default
policy rewrites once 5 commits and 5 files have piled up, at most once in 10 s."""


def _table(wb: Workbench) -> Any:
    catalog = open_catalog(wb.stack.endpoints().catalog)
    return catalog.load_table((DEFAULT_NAMESPACE, wb.runs(JOB)[-1].table))


def test_the_sink_rewrites_a_live_table_on_the_rest_catalog_and_loses_no_row(
    workbench: Workbench,
) -> None:
    wb = workbench
    assert wb.settings.table_maintenance == MaintenancePolicy()  # a profile's default: on
    wb.topic(TOPIC, "merchant STRING, amount BIGINT", partitions=1, table=SOURCE)
    wb.job(JOB, SQL)
    wb.run(JOB, watch=False)
    trickle = Trickle(wb, seed=12, topic=TOPIC, job=JOB, merchants=6)
    assert maintained(_table(wb).properties)
    batches = 0
    while not sink_rewrites(_table(wb)):
        assert batches < BATCHES, f"no rewrite after {batches} batches: {file_counts(_table(wb))}"
        trickle.add(5)
        batches += 1
    rewrite = sink_rewrites(_table(wb))[0]
    summary = rewrite.summary
    assert summary is not None
    print(
        f"first rewrite after {batches} batches: {summary['deleted-data-files']} data "
        f"files into {summary['added-data-files']}"
    )
    trickle.add(5)  # and the job commits on top of it
    want = oracle(trickle.events)
    assert trickle.read() == want and trickle.torn == []
    data, _deletes = file_counts(_table(wb))
    assert data < batches, f"{data} data files after {batches} commits and a rewrite"

    wb.stop(JOB, 1)  # `compact` races nothing: the sink's last delete files go too
    compacted = wb.compact(JOB)
    assert compacted.compacted.delete_files_after == 0 and compacted.compacted.rows == len(want)
    table = _table(wb)
    plain = table.scan().to_arrow().select(["merchant", "payments", "total"]).to_pylist()
    assert frozenset((r["merchant"], r["payments"], r["total"]) for r in plain) == want
