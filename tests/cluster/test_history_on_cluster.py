"""History beyond the log on a cluster profile (issue 23): the archive is an Iceberg table
of the REST catalog on S3, written by a job on the cluster's Flink; `forget` deletes rows
from it through the REST catalog; a replay `--from archive` reads it, then the tail from
the cluster's brokers. The same checks as on the embedded stack
(tests/history/test_forget_then_replay.py), against an oracle without the forgotten key."""

from __future__ import annotations

import pytest

from kappanb.tables.catalog import DEFAULT_NAMESPACE, open_catalog
from kappanb.tables.rest_catalog import RestCatalogLocation
from kappanb.workbench import Workbench
from tests.history.test_forget_then_replay import ARCHIVE, check_forget_then_replay

pytestmark = [pytest.mark.cluster, pytest.mark.integration, pytest.mark.slow]


def test_archive_forget_and_a_replay_from_the_archive_on_a_cluster(workbench: Workbench) -> None:
    catalog = workbench.stack.endpoints().catalog
    assert isinstance(catalog, RestCatalogLocation)
    check_forget_then_replay(workbench)
    archive = open_catalog(catalog).load_table((DEFAULT_NAMESPACE, ARCHIVE))
    assert archive.location().startswith("s3://")  # in the bucket, not on a local disk
