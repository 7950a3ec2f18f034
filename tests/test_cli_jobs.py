"""The CLI twin of the job lifecycle: files and stdin stand in for cells and variables."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from kappanb.cli import main
from kappanb.flink.rest import FlinkRest
from kappanb.generators import PaymentsGenerator
from kappanb.kafka.topics import end_offsets
from kappanb.stack.embedded import EmbeddedStack

pytestmark = pytest.mark.integration

TOPIC = "cli.payments.v1"
SQL = "SELECT merchant_id, SUM(amount_cents) AS total FROM cli_payments GROUP BY merchant_id\n"


@pytest.fixture
def env(stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch) -> EmbeddedStack:
    monkeypatch.setenv("KAPPANB_HOME", str(stack.settings.home))
    monkeypatch.setenv("KAPPANB_CHECKPOINT_INTERVAL", "2 s")
    for name in ("KAPPANB_KAFKA_PORT", "KAPPANB_FLINK_REST_PORT"):
        monkeypatch.delenv(name, raising=False)
    return stack


def test_cli_topic_produce_job_replay_read(
    env: EmbeddedStack, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    events = list(PaymentsGenerator(seed=9).events(500))
    lines = tmp_path / "events.jsonl"
    lines.write_text("".join(json.dumps(e) + "\n" for e in events))
    sql = tmp_path / "totals.sql"
    sql.write_text(SQL)

    assert main(["topic", TOPIC, "--schema", "payments", "--table", "cli_payments"]) == 0
    assert "SQL table cli_payments" in capsys.readouterr().out
    assert main(["produce", TOPIC, str(lines)]) == 0
    assert "delivered 500 events" in capsys.readouterr().out
    assert main(["job", "cli_totals", "--file", str(sql), "--note", "from a file"]) == 0
    assert "cli_totals v1 defined" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(SQL))
    assert main(["job", "cli_totals"]) == 0  # the same SQL from stdin: the same version
    assert "unchanged, still" in capsys.readouterr().out

    assert main(["replay", "cli_totals", "v1", "--until", "latest"]) == 0
    out = capsys.readouterr().out
    job_id = out.split("Flink job ")[1].split()[0]
    assert FlinkRest(env.endpoints().flink_rest_url).wait_for_state(job_id) == "FINISHED"
    assert main(["status", "cli_totals"]) == 0
    assert "FINISHED" in capsys.readouterr().out

    assert main(["read", "cli_totals", "--limit", "100"]) == 0
    out = capsys.readouterr().out
    totals: dict[str, int] = {}
    for e in events:
        totals[str(e["merchant_id"])] = totals.get(str(e["merchant_id"]), 0) + int(
            str(e["amount_cents"])
        )
    for merchant, total in totals.items():
        assert f"│ {merchant} " in out and f" {total} " in out


def test_cli_errors_are_one_line_with_exit_1(
    env: EmbeddedStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["topic", TOPIC, "--schema", "payments", "--table", "cli_payments"]) == 0
    assert main(["run", "no_such_job"]) == 1
    assert capsys.readouterr().err.startswith("kappanb: error: unknown job 'no_such_job'")
    assert main(["produce", TOPIC, str(tmp_path / "missing.jsonl")]) == 1
    assert "no file" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"payment_id": "p1"}\nnot json\n')
    assert main(["produce", TOPIC, str(bad)]) == 1
    assert "line 2 is not JSON" in capsys.readouterr().err
    head = end_offsets(env.endpoints().kafka, TOPIC)
    assert main(["produce", TOPIC, str(bad)]) == 1
    assert end_offsets(env.endpoints().kafka, TOPIC) == head  # nothing was sent
