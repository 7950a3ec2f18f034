"""A notebook session on the cluster's profile leaves the cluster's secrets nowhere: not in
the saved notebook, not in the shared registry (the `_kappanb.registry` topic, every
record), not in any file under the workbench's home (its logs, registry cache, tallies).

The notebook runs in a real kernel (nbclient), as a user's would: the profile is chosen
by name, Kafka is reached over SASL, the job's output goes to the REST catalog on S3.
Runs before test_local_cluster.py, whose last test takes the package's cluster down.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import nbformat
import pytest
from confluent_kafka import Consumer, TopicPartition
from nbclient import NotebookClient

from kappanb.cluster.layout import PROFILE_NAME
from kappanb.cluster.local import LocalCluster
from kappanb.cluster.secrets import ensure_secrets
from kappanb.registry.log import REGISTRY_TOPIC
from kappanb.workbench import Workbench

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

CELLS = [
    "%load_ext kappanb",
    "%kappa status",
    "%kappa topic secret.check.v1 --schema payments --event-time event_time "
    "--partitions 2 --table secret_payments",
    "%kappa produce secret.check.v1 --generator payments --count 2000 --seed 5",
    "%%kappa job secret_daily\n"
    "SELECT CAST(event_time AS DATE) AS `day`, COUNT(*) AS payments\n"
    "FROM secret_payments GROUP BY CAST(event_time AS DATE)",
    "%kappa show secret_daily",
    "live = %kappa run secret_daily\nlive",
    "assert live.wait(timeout=300) and live.caught_up\n%kappa status secret_daily",
    "%kappa read secret_daily",
    "%kappa stop secret_daily v1 --savepoint",
    "%kappa history secret_daily",
    "%kappa status",
]


def registry_records(wb: Workbench) -> list[bytes]:
    """Every record of the shared registry's topic, keys and values, as stored."""
    consumer = Consumer(
        wb.stack.endpoints().kafka.client_config(
            {"group.id": f"secret-check-{uuid.uuid4().hex}", "enable.auto.commit": False}
        )
    )
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(REGISTRY_TOPIC, 0), 10)
        assert high > low, "the session wrote nothing to the shared registry"
        consumer.assign([TopicPartition(REGISTRY_TOPIC, 0, low)])
        records: list[bytes] = []
        while len(records) < high - low:
            message = consumer.poll(10)
            assert message is not None, f"read {len(records)} of {high - low} records"
            assert message.error() is None, message.error()
            records.append((message.key() or b"") + b"\0" + (message.value() or b""))
        return records
    finally:
        consumer.close()


@pytest.mark.timeout(900)
def test_a_saved_notebook_the_registry_and_the_home_hold_no_secret(
    local_cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("KAPPANB_CONFIG", str(local_cluster.profile_file))
    monkeypatch.setenv("KAPPANB_HOME", str(home))
    monkeypatch.setenv("KAPPANB_PROFILE", PROFILE_NAME)
    monkeypatch.setenv("KAPPANB_CHECKPOINT_INTERVAL", "2 s")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    saved = tmp_path / "session.ipynb"
    nbformat.write(notebook, saved)
    shown = saved.read_text()
    assert "secret_daily__v1" in shown and "RUNNING" in shown  # the session did run
    assert "STOPPED" in shown and "s3://" in shown  # stopped with a savepoint on S3

    wb = Workbench(profile=PROFILE_NAME, auto_up=False)
    records = registry_records(wb)
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files, f"nothing under {home}"
    secrets = ensure_secrets(local_cluster.layout).values()
    assert len(secrets) == 3 and all(len(s) >= 8 for s in secrets)
    for secret in secrets:
        assert secret not in shown, "a secret is in the saved notebook"
        assert not [r for r in records if secret.encode() in r], "a secret is in the registry"
        leaked = [str(p) for p in files if secret.encode() in p.read_bytes()]
        assert not leaked, f"a secret is in {leaked}"
