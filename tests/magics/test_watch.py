"""`%kappa watch` gives a live panel; `kappanb watch` prints progress until caught up."""

from __future__ import annotations

import threading

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kappanb.cli import main
from kappanb.generators import PaymentsGenerator
from kappanb.jobs.report import RunHandle
from kappanb.stack.embedded import EmbeddedStack
from kappanb.widgets.watch_panel import RunPanel, WatchPanel
from tests.magics.conftest import Magic

pytestmark = pytest.mark.integration

TOPIC = "watchcmd.payments.v1"


def test_watch_in_the_notebook_and_in_the_shell(
    kappa: Magic, shell: InteractiveShell, stack: EmbeddedStack,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    kappa(f"topic {TOPIC} --schema payments --table watchcmd --event-time event_time")
    shell.user_ns["events"] = list(PaymentsGenerator(seed=51).events(20_000))
    kappa(f"produce {TOPIC} events")
    kappa("job watchcmd_counts", "SELECT merchant_id, COUNT(*) AS n FROM watchcmd "
          "GROUP BY merchant_id")  # fmt: skip
    shown = kappa("run watchcmd_counts")  # the panel comes with the run
    panel = kappa("watch watchcmd_counts v1 --interval 0.5")  # and a second one on demand
    try:
        assert isinstance(shown, RunPanel) and shown.run.mode == "live"  # the handle reads through
        assert "watchcmd_counts__v1" in shown.status.value  # the run's summary heads the panel
        assert isinstance(panel, WatchPanel)
        assert panel.watch.wait(timeout=120), str(panel.watch)
        assert panel.updates >= 1 and "v1 live" in panel.status.value
        assert shown.wait(timeout=60) and shown.caught_up  # the handle's own property
    finally:
        panel.close()
        shown.close()
    left = [t.name for t in threading.enumerate() if t.name.startswith("kappanb-watch-")]
    assert not left

    monkeypatch.setenv("KAPPANB_HOME", str(stack.settings.home))
    assert main(["watch", "watchcmd_counts", "--interval", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "v1 live" in out and "caught up" in out
    kappa("job watchcmd_counts", "SELECT merchant_id, COUNT(*) AS n FROM watchcmd "
          "WHERE amount_cents > 0 GROUP BY merchant_id")  # fmt: skip
    assert main(["replay", "watchcmd_counts", "v2", "--until", "latest", "--watch"]) == 0
    out = capsys.readouterr().out
    assert "v2 replay" in out and "finished" in out  # followed until the bounded replay ended
    assert not any(t.name.startswith("kappanb-watch-") for t in threading.enumerate())
    quiet = kappa("run watchcmd_counts v1 --restart --quiet")
    assert isinstance(quiet, RunHandle) and quiet.watch is None  # no panel, no sampling
    kappa("stop watchcmd_counts v1")
    with pytest.raises(UsageError, match=r"no run of watchcmd_counts is running to watch \("):
        kappa("watch watchcmd_counts")
