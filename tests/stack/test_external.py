"""An existing cluster chosen by a profile: kappanb checks its services, starts nothing.

The session's stack stands in for the cluster's Kafka and Flink (real services, reached
only through the profile's addresses); the catalog address answers nothing.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kappanb.cli import main
from kappanb.exceptions import SettingsError, StackNotRunningError, UnknownProcessError
from kappanb.profiles.load import load_profile
from kappanb.stack.embedded import EmbeddedStack
from kappanb.stack.external import ExternalStack
from kappanb.workbench import Workbench
from tests.magics.conftest import new_shell

pytestmark = pytest.mark.integration

SECRET = "s3-very-s3cret-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def cluster_env(stack: EmbeddedStack, tmp_path: Path) -> dict[str, str]:
    ep = stack.endpoints()
    catalog = f"http://127.0.0.1:{_free_port()}"
    (tmp_path / ".kappanb.yaml").write_text(
        json.dumps(
            {
                "profiles": {
                    "lab": {
                        "kafka": {"bootstrap_servers": ep.bootstrap_servers},
                        "flink": {
                            "rest_url": ep.flink_rest_url,
                            "checkpoints": "s3://lake/chk",
                            "savepoints": "s3://lake/sp",
                        },
                        "iceberg": {
                            "uri": catalog,
                            "warehouse": "s3://lake/warehouse",
                            "secrets": {"s3.secret-access-key": {"env": "LAB_S3_SECRET"}},
                        },
                    }
                }
            }
        )
    )
    return {"KAPPANB_CONFIG": str(tmp_path / ".kappanb.yaml"),
            "KAPPANB_HOME": str(tmp_path / "home"), "LAB_S3_SECRET": SECRET}  # fmt: skip


def test_status_names_each_service_of_the_cluster_and_no_secret(
    cluster_env: dict[str, str],
) -> None:
    cluster = ExternalStack(load_profile("lab", env=cluster_env))
    status = cluster.status()
    kafka, flink, catalog = (status.service(n) for n in ("kafka", "flink", "catalog"))
    assert kafka.healthy and "1 broker(s)" in kafka.detail and "cluster " in kafka.detail
    assert flink.healthy and flink.detail.startswith("Flink 2.0"), flink.detail
    assert "TaskManager(s)" in flink.detail and "task slots free" in flink.detail
    assert not catalog.healthy and "no answer from the Iceberg REST catalog" in catalog.detail
    assert catalog.address in catalog.detail and not status.healthy
    shown = f"{status}\n{status._repr_html_()}\n{json.dumps(status.to_dict())}"
    assert SECRET not in shown
    said: list[str] = []
    assert cluster.up(said.append).status.service("kafka").healthy
    assert "starts nothing" in said[0]
    assert set(cluster.down(said.append).outcomes.values()) == {"not kappanb's to stop"}
    with pytest.raises(SettingsError, match="task slots are set where it runs"):
        cluster.with_task_slots(8)
    assert status.flink_web_ui == flink.address  # as the embedded JobManager's web UI
    with pytest.raises(UnknownProcessError, match="kappanb knows no process of it"):
        cluster.taskmanager("some-taskmanager")  # a cluster kappanb does not run


def test_a_wrong_address_is_named_and_nothing_is_created(
    cluster_env: dict[str, str], tmp_path: Path
) -> None:
    dead = f"127.0.0.1:{_free_port()}"
    profile = load_profile("lab", env={**cluster_env, "KAPPANB_KAFKA__BOOTSTRAP_SERVERS": dead,
                                       "KAPPANB_FLINK__REST_URL": f"http://{dead}"})  # fmt: skip
    status = ExternalStack(profile).status()
    assert f"no answer from the brokers at {dead}" in status.service("kafka").detail
    assert f"no answer from Flink's REST API at http://{dead}" in status.service("flink").detail
    wb = Workbench(stack=ExternalStack(profile), auto_up=True)
    with pytest.raises(StackNotRunningError, match=r"cluster of profile lab is not healthy "
                       r"\(kafka, flink, catalog\): `status` says"):  # fmt: skip
        wb.topic("lab.payments.v1", "payments")
    assert wb.topics() == [] and not list((tmp_path / "home").glob("**/*.pid"))


def test_the_magic_and_the_cli_choose_the_profile(
    cluster_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], stack: EmbeddedStack,
) -> None:  # fmt: skip
    for name, value in cluster_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KAPPANB_HOME", str(stack.settings.home))
    shell = new_shell(Workbench(stack.settings, auto_up=False))
    try:
        shown = str(shell.run_line_magic("kappa", "profile lab"))
        assert "* lab" in shown and "  embedded" in shown and "Flink 2.0" in shown
        assert SECRET not in shown
        assert shell.run_line_magic("kappa", "topics") is not None  # registry only
        with pytest.raises(UsageError, match=r"profile lab is not healthy \(catalog\)"):
            shell.run_line_magic("kappa", "topic lab.x --schema payments")
        with pytest.raises(UsageError, match="unknown profile 'prod'"):
            shell.run_line_magic("kappa", "profile prod")
        back = str(shell.run_line_magic("kappa", "profile embedded"))
        assert "* embedded" in back and "kafka               running" in back
    finally:
        InteractiveShell.clear_instance()
    assert main(["--profile", "lab", "status"]) == 3  # unhealthy (no catalog), as embedded
    out = capsys.readouterr().out
    assert "profile lab" in out and "catalog" in out and SECRET not in out
    assert main(["--profile", "lab", "up"]) == 0
    said = capsys.readouterr()
    assert "starts nothing" in said.err and "start it with `kappanb up`" not in said.out
