"""`%kappa replay JOB` asks the stack for its health once, and runs each check once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from kappanb import workbench as api
from kappanb.runs import control as control_module
from kappanb.stack.embedded import EmbeddedStack
from tests.magics.conftest import fresh_workbench, new_shell

pytestmark = pytest.mark.integration

TOPIC = "onecheck.payments.v1"


def _counted(calls: Counter[str], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return fn(*args, **kwargs)

    return counting


def test_replay_checks_the_stack_once_and_each_condition_once(
    idle_stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    wb = fresh_workbench(idle_stack)
    shell = new_shell(wb)
    try:
        kappa = shell.run_line_magic
        kappa("kappa", f"topic {TOPIC} --schema payments --table onecheck --event-time event_time")
        kappa("kappa", f"produce {TOPIC} --generator payments --count 2000 --seed 5")
        shell.run_cell_magic(
            "kappa", "job onecheck_daily", "SELECT merchant_id, COUNT(*) AS n FROM onecheck "
            "GROUP BY merchant_id",
        )  # fmt: skip
        calls: Counter[str] = Counter()
        monkeypatch.setattr(wb.stack, "status", _counted(calls, "health", wb.stack.status))
        counted_start = _counted(calls, "start", api.checked_start)
        for module in (api, control_module):  # where the workbench and the control find it
            monkeypatch.setattr(module, "checked_start", counted_start)
        history = _counted(calls, "check_history", control_module.check_history)
        monkeypatch.setattr(control_module, "check_history", history)  # the log's retention
        control = api.RunControl
        for check in ("check_slots", "output_table"):
            monkeypatch.setattr(control, check, _counted(calls, check, getattr(control, check)))

        result = shell.run_cell(
            "%kappa replay onecheck_daily --until latest"
        )  # shown, as in a notebook
        result.raise_error()
        assert calls == {
            "health": 1, "start": 1, "check_history": 1, "check_slots": 1, "output_table": 1,
        }  # fmt: skip
        handle = result.result
        assert handle.wait(timeout=180) and handle.finished
    finally:
        InteractiveShell.clear_instance()
