"""Pytest set-up shared by tests/ and notebooks/: one real embedded stack per session.

The stack starts when the first test or notebook needs it, in a temporary home (your own
stack, if any, is left alone), and stops when the session ends. Notebooks run under nbval
in kernels of their own; they find the session's stack through ``KAPPANB_HOME``, which is
set before the first notebook's kernel starts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from nbval.plugin import IPyNbCell

from kappanb.flink.rest import FlinkRest
from kappanb.monitor.watcher import stop_all
from kappanb.registry.base import now
from kappanb.registry.records import ACTIVE_STATES
from kappanb.registry.store import LocalRegistry
from kappanb.runs.lifecycle import RESUMABLE_AT_UP
from kappanb.stack.embedded import EmbeddedStack
from tests.helpers import settings_for

_STACK = pytest.StashKey[EmbeddedStack]()
_NOTEBOOKS_BEGUN = pytest.StashKey[bool]()
_NOTEBOOK_SECONDS: dict[str, float] = {}
_FILE_SECONDS: dict[str, float] = {}
"""Per test file: set-up (stacks started for it), calls and teardown, to see where CI's
50-minute budget goes."""

NOTEBOOK_CHECKPOINT_INTERVAL = "2 s"
"""Notebook kernels checkpoint (and so commit and count as caught up) sooner than the
default 10 s: the same behaviour, less waiting in CI."""


def session_stack(config: pytest.Config) -> EmbeddedStack:
    """The session's stack, started on first use and stopped when the session ends."""
    if _STACK not in config.stash:
        home = Path(tempfile.mkdtemp(prefix="kappanb-home-"))
        embedded = EmbeddedStack(settings_for(home))
        config.stash[_STACK] = embedded

        def stop() -> None:
            embedded.down()
            shutil.rmtree(home, ignore_errors=True)

        config.add_cleanup(stop)
        embedded.up()
    return config.stash[_STACK]


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> EmbeddedStack:
    return session_stack(request.config)


@pytest.fixture
def idle_stack(stack: EmbeddedStack) -> EmbeddedStack:
    """The session's stack with every task slot free (jobs of earlier tests cancelled)."""
    _cancel_running_jobs(stack)
    return stack


@pytest.fixture(autouse=True, scope="module")
def _slots_free_of_earlier_modules(request: pytest.FixtureRequest) -> None:
    """A test module starts with the task slots the session's stack has: jobs that earlier
    modules left running (their tests have ended) are cancelled. `run` and `replay` refuse
    a parallelism above the free slots, so a leftover live run must not decide which
    module's job is refused. Starts nothing: a module before the stack's first use has
    nothing to cancel."""
    if _STACK in request.config.stash:
        _cancel_running_jobs(request.config.stash[_STACK])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Notebook cells are integration tests, and slow: CI runs them; `-m 'not notebooks'`
    leaves them out."""
    for item in items:
        if isinstance(item, IPyNbCell):
            for mark in ("notebooks", "integration", "slow"):
                item.add_marker(mark)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a notebook's kernel starts (in its file's setup): point it at the stack."""
    if isinstance(item, IPyNbCell):
        if os.environ.get("KAPPANB_PROFILE", "embedded") != "embedded":
            return  # the notebooks run on the profile's cluster (scripts/notebooks-on-cluster)
        embedded = session_stack(item.config)
        os.environ["KAPPANB_HOME"] = str(embedded.settings.home)
        os.environ["KAPPANB_CHECKPOINT_INTERVAL"] = NOTEBOOK_CHECKPOINT_INTERVAL
        if not item.config.stash.get(_NOTEBOOKS_BEGUN, False):
            item.config.stash[_NOTEBOOKS_BEGUN] = True
            _cancel_running_jobs(embedded)


def _cancel_running_jobs(embedded: EmbeddedStack) -> None:
    """Notebooks start, as a reader's would, on a cluster whose task slots are free: jobs
    the tests before them left running are cancelled (their tests have ended). Their runs
    are marked stopped too, so no `%kappa up` resumes them: a test that restarted the
    stack left them LOST, and `up` resumes lost runs."""
    stop_all()
    rest = FlinkRest(embedded.endpoints().flink_rest_url)
    for job in rest.jobs():
        if job.get("state") in ACTIVE_STATES - {"CANCELLING"}:
            rest.cancel(str(job["jid"]))
    registry = LocalRegistry(embedded.layout.registry_db)
    for run in registry.runs(None):
        if run.active or run.state in RESUMABLE_AT_UP:
            registry.update_run(run.id, state="STOPPED", ended_at=now())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A notebook cell that failed gets what Flink said at that moment beside its diff:
    the TaskManagers and the newest jobs with their restarts and restores (a flaky cell
    is then explained by its own CI log)."""
    report = yield
    if isinstance(item, IPyNbCell) and report.failed and _STACK in item.config.stash:
        report.sections.append(("Flink when the cell failed", _flink_picture(item.config)))
    return report


def _flink_picture(config: pytest.Config) -> str:
    try:
        rest = FlinkRest(config.stash[_STACK].endpoints().flink_rest_url, timeout=5)
        managers = rest._request("GET", "/taskmanagers")["taskmanagers"]
        lines = [
            f"{len(managers)} TaskManager(s): "
            + ", ".join(
                f"{m['id']} ({m['slotsNumber']} slots, {m['freeSlots']} free)" for m in managers
            )
        ]
        for job in sorted(rest.jobs(), key=lambda j: -int(j.get("start-time", 0)))[:4]:
            jid = str(job["jid"])
            counts = rest.checkpoints(jid).get("counts", {})
            lines.append(
                f"job {jid} {job.get('name', '')[:40]} {job.get('state')}: "
                f"restarts {rest.restarts(jid)}, checkpoints {counts}, "
                f"root exception {rest.root_exception(jid)[:300]!r}"
            )
        return "\n".join(lines + _taskmanager_ends(config.stash[_STACK]))
    except Exception as exc:  # the picture is a courtesy: never fail the report
        return f"could not ask Flink: {exc!r}"


def _taskmanager_ends(stack: EmbeddedStack) -> list[str]:
    """How each TaskManager log of the stack ends, and its errors: a TaskManager that
    vanished after it registered says why only there (its log is gone with the home)."""
    lines: list[str] = []
    for log in sorted(stack.layout.flink_log_dir("flink-taskmanager").glob("*.log*")):
        text = log.read_text(errors="replace").splitlines()
        errors = [t for t in text if " ERROR " in t or "Exception" in t or "Fatal" in t]
        lines += [f"--- {log.name}: its last errors, then its last lines", *errors[-15:],
                  "...", *text[-15:]]  # fmt: skip
    for log in sorted(stack.layout.flink_log_dir("flink-jobmanager").glob("*.log*")):
        words = ("lost", "isconnect", "timed out")
        said = [t for t in log.read_text(errors="replace").splitlines()
                if "TaskManager" in t and any(w in t for w in words)]  # fmt: skip
        lines += [f"--- {log.name}: what it said of lost TaskManagers", *said[-10:]]
    return lines


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Adds up each file's time, and each notebook's (its kernel's start and every cell)."""
    path = report.nodeid.split("::")[0]
    _FILE_SECONDS[path] = _FILE_SECONDS.get(path, 0.0) + report.duration
    if path.endswith(".ipynb"):
        _NOTEBOOK_SECONDS[path] = _NOTEBOOK_SECONDS.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How long each notebook took (each should stay under 3 minutes on 2 cores), and the
    slowest files with their fixtures' set-up."""
    if _FILE_SECONDS:
        terminalreporter.section("slowest files: seconds with set-up and teardown")
        total = sum(_FILE_SECONDS.values())
        for path, seconds in sorted(_FILE_SECONDS.items(), key=lambda kv: -kv[1])[:25]:
            terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
        terminalreporter.write_line(f"{total:7.1f} s  in all {len(_FILE_SECONDS)} files")
    if _NOTEBOOK_SECONDS:
        terminalreporter.section("notebooks: seconds each (kernel start + cells)")
        for path, total in _NOTEBOOK_SECONDS.items():
            terminalreporter.write_line(f"{total:7.1f} s  {path}")
    from tests.faults.recovery import RECOVERIES

    if RECOVERIES:
        terminalreporter.section("faults: recovery time per trial")
        for r in RECOVERIES:
            terminalreporter.write_line(f"{r.seconds:6.1f} s  {r.fault} [{r.trial}]: {r.outcome}")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fault-trials", type=int, default=4,
        help="TaskManager kills in the fault matrix (tests/faults; 4 by default, in CI too: "
        "two during a checkpoint, two at spread shares of the log read)",
    )  # fmt: skip
