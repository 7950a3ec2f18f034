from __future__ import annotations

from pathlib import Path

import pytest

from kappanb.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["up", "--slots", "0"], "must be at least 1, not 0"),
        (["up", "--slots", "many"], "'many' is not a whole number"),
        (["logs", "kafka", "-n", "-5"], "must be at least 1, not -5"),
        (["logs", "zookeeper"], "invalid choice: 'zookeeper'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_wrong_arguments_are_refused_before_anything_runs(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAPPANB_HOME", str(tmp_path / "h"))
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "h").exists()


def test_status_of_a_home_never_started_says_how_to_start(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAPPANB_HOME", str(tmp_path / "h"))
    assert main(["status"]) == 3
    out = capsys.readouterr().out
    assert "kafka               stopped" in out
    assert "web UI" not in out  # no link to a UI that is not there
    assert "start it with `kappanb up`" in out


def test_bad_setting_is_an_error_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAPPANB_FLINK_REST_PORT", "eighty")
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kappanb: error: KAPPANB_FLINK_REST_PORT='eighty' is not a whole number")


def test_sweep_of_a_home_with_nothing_retired_needs_no_stack(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAPPANB_HOME", str(tmp_path / "h"))
    assert main(["sweep"]) == 0
    assert capsys.readouterr().out.strip() == "no retired table is scheduled for removal"
