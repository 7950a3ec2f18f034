"""How `up`, `down` and `status` look in a notebook: HTML tables like kappanb's other
results (no I/O)."""

from __future__ import annotations

from kappanb.stack.status import DownResult, ServiceStatus, StackStatus

URL = "http://127.0.0.1:8081"
LOG = "/tmp/kappanb-home-abc/logs/flink-jobmanager/flink-kappanb-standalonesession-0.log"


def status() -> StackStatus:
    return StackStatus("/tmp/kappanb-home-abc", [
        ServiceStatus("kafka", "running", "127.0.0.1:9092", pid=11, log_file=LOG),
        ServiceStatus("flink-jobmanager", "running", URL, web_ui=URL, pid=12, log_file=LOG),
    ])  # fmt: skip


def test_the_status_table_says_the_jobmanager_url_once_and_breaks_log_paths_at_slashes() -> None:
    out = status()._repr_html_()
    assert out.count(URL) == 2  # one link: its href and its text
    assert "text-align:left" in out.split("<th ", 2)[1]  # headers as the cells: left
    assert "standalonesession-0.log</code>" in out and "/<wbr>logs/<wbr>" in out
    text = str(status())
    assert text.count(URL) == 1


def test_down_is_a_table_too() -> None:
    out = DownResult({"kafka": "stopped", "flink-jobmanager": "stopped"}, 3.2)._repr_html_()
    assert out.count("<tr>") == 3 and ">stopped</td>" in out and "done in 3.2 s" in out
