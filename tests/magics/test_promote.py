"""`%kappa diff / promote / rollback / history / retire` in a notebook, and wrong input."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

import kappanb
from kappanb.compare import Diff
from kappanb.stack.embedded import EmbeddedStack
from tests.magics.conftest import Magic

pytestmark = pytest.mark.integration

TOPIC = "promotecmd.payments.v1"
SQL = "SELECT merchant_id, COUNT(*) AS n FROM promotecmd WHERE {flag} GROUP BY merchant_id"


def test_the_decision_step_from_the_notebook(
    kappa: Magic, stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    kappa(f"topic {TOPIC} --schema payments --table promotecmd --event-time event_time")
    from kappanb.workbench import Workbench

    kappa(f"produce {TOPIC} --generator payments --count 5000 --seed 91")
    job = "promotecmd_counts"
    kappa(f"job {job}", SQL.format(flag="NOT captured"))
    live = kappa(f"run {job}")
    kappa(f"job {job}", SQL.format(flag="captured"))
    try:
        with pytest.raises(UsageError, match="has never run"):
            kappa(f"diff {job} v1 v2")
        replay = kappa(f"replay {job} v2 --until latest")  # its panel reads through
        with pytest.raises(UsageError, match="not finished"):
            kappa(f"promote {job} v2")
        assert replay.wait(timeout=120) and live.wait(timeout=120)
        diff = kappa(f"diff {job} v1 v2 --tolerance 0")
        assert isinstance(diff, Diff) and diff.changed.height > 0  # captured vs not: all differ
        assert "keys differ" in diff.summary() and "changed" in diff._repr_html_()
        with pytest.raises(UsageError, match=r"not a condition|failed"):
            kappa(f'diff {job} v1 v2 --where "no_such_column > 1"')
        switched = kappa(f'promote {job} v2 --reason "captured only"')
        assert "now serves v2" in str(switched)
        mine = [line for line in str(kappa("jobs")).splitlines() if line.startswith(job)]
        assert ["v2 (serving)" in line for line in mine] == [False, True]  # v1, v2
        counted = kappa("sql", f"SELECT COUNT(*) AS merchants FROM {job}")  # the alias
        v2_rows = kappa(f"read {job} v2 --limit 1000").height
        assert counted["merchants"].to_list() == [v2_rows]
        with pytest.raises(UsageError, match="reads no job's output"):
            kappa("sql SELECT 1 FROM nowhere")
        monkeypatch.setenv("KAPPANB_HOME", str(stack.settings.home))
        served = kappanb.read(job).collect().sort("merchant_id")  # outside the magics
        assert served.equals(kappa(f"read {job} v2 --limit 1000").sort("merchant_id"))
        with pytest.raises(UsageError, match="is what readers get"):
            kappa(f"retire {job} v2 --drop")
        assert "now serves v1" in str(kappa(f"rollback {job}"))
        history = kappa(f"history {job}")
        assert [s.kind for s in history.switches] == ["first live run", "promote", "rollback"]
        assert "captured only" in history._repr_html_()
        with pytest.raises(UsageError, match="is what readers get"):
            kappa(f"retire {job} v1")
        with pytest.raises(UsageError, match=r"v2 is the rollback target .* nothing dropped"):
            kappa(f"retire {job} v2 --drop")  # `rollback` would return to it
        kept = str(kappa(f"retire {job} v2"))  # its bounded replay finished: nothing to stop
        assert kept.endswith("kept promotecmd_counts__v2 (a rollback target)")
        assert "now serves v2" in str(kappa(f"promote {job} v2"))  # its table is still there
    finally:
        wb = Workbench(stack.settings, auto_up=False)
        for run in wb.runs(job):
            if run.active:
                wb.stop(job, run.version)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("promote nosuch v1", "unknown job 'nosuch'"),
        ("promote", "required: name"),
        ("promote promotecmd_none", "required: version"),
        ("diff nosuch v1 v2", "unknown job 'nosuch'"),
        ("diff x v1", "required: new"),
        ("diff x v1 v2 --tolerance -1", "must be 0 or more"),
        ("diff x v1 v2 --tolerance lots", "is not a number"),
        ("rollback nosuch", "unknown job 'nosuch'"),
        ("history nosuch", "unknown job 'nosuch'"),
        ("retire nosuch v1", "unknown job 'nosuch'"),
        ("retire x vv", "version"),
    ],
)
def test_wrong_input_is_explained(kappa: Magic, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        kappa(line)
