"""`%kappa watch` gives a live panel; `kappanb watch` prints progress until caught up."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kappanb.cli import main
from kappanb.exceptions import RunNotFoundError
from kappanb.generators import PaymentsGenerator
from kappanb.runs.report import RunHandle
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
        assert isinstance(shown, RunHandle) and shown.run.mode == "live"  # the API's handle
        assert isinstance(shown.view, RunPanel) and shown.view is shown.view  # built once
        assert "watchcmd_counts__v1" in shown.view.status.value  # the run's summary heads it
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
    assert not any(t.name.startswith("kappanb-watch-") for t in threading.enumerate())
    assert quiet.wait(timeout=120) and quiet.caught_up  # it watches its run when asked
    stopped = quiet.stop(savepoint=True)  # the handle's own action, as `stop --savepoint`
    assert not stopped.run.active and stopped.run.savepoint, stopped.run
    with pytest.raises(RunNotFoundError, match=r"run #\d+ is not running \(STOPPED"):
        quiet.stop()
    with pytest.raises(UsageError, match=r"no run of watchcmd_counts is running to watch \("):
        kappa("watch watchcmd_counts")


def samplers_of(job: str) -> list[str]:
    """The sampler threads of ``job``'s runs (named ``kappanb-watch-JOB vN MODE #RUN``)."""
    return [t.name for t in threading.enumerate() if t.name.startswith(f"kappanb-watch-{job} ")]


def until(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_five_watches_of_a_run_share_one_sampler_until_the_last_is_released(
    kappa: Magic, shell: InteractiveShell,
) -> None:  # fmt: skip
    wb = shell.magics_manager.registry["KappaMagics"].workbench
    job = "watchfive_counts"
    kappa("topic watchfive.payments.v1 --schema payments --table watchfive --event-time event_time")
    wb.produce("watchfive.payments.v1", list(PaymentsGenerator(seed=55).events(5_000)))
    kappa(f"job {job}", "SELECT merchant_id, COUNT(*) AS n FROM watchfive GROUP BY merchant_id")
    shown = kappa(f"run {job}")  # 1: the run's own panel
    run_id = shown.run.id
    sampler = shown.watch.of_run(run_id)
    assert until(lambda: len(sampler.history) >= 2)
    kept_panel = kappa(f"watch {job}")  # 2
    kappa(f"watch {job} --interval 0.5")  # 3: a panel nobody keeps
    first_set = wb.watch(job)  # 4
    last_set = wb.watch(job)  # 5
    try:
        assert samplers_of(job) == [f"kappanb-watch-{job} v1 live #{run_id}"]  # one, shared
        assert all(w.of_run(run_id) is sampler for w in (kept_panel.watch, first_set, last_set))
        assert len(last_set.of_run(run_id).history) >= 2  # with the samples taken so far
        assert last_set.wait(120) and shown.caught_up, str(last_set)
    finally:
        shown.close()
        kept_panel.close()
        first_set.stop()
    assert len(samplers_of(job)) == 1  # the last set still watches
    del last_set
    gc.collect()  # and so does the dropped panel, until collected
    assert until(lambda: not samplers_of(job)), samplers_of(job)
    assert sampler.ended and not sampler.running  # no one watches it: the run goes on alone
    kappa(f"stop {job} v1")
