"""Notebook 01, unchanged, run cell by cell in JupyterLab in headless Chromium (1400 px wide,
the Kappa panel open), on a fresh kappanb home whose stack the notebook's `%kappa up` starts
and a `%kappa down` typed at the end stops: see tests/browser/notebook.spec.mjs for what it
checks while the runs update. Afterwards no process of JupyterLab (the server, the kernel)
has a Kafka client left (librdkafka's threads are named "rdk:...").

Screenshots go where test_lab.py's go (KAPPANB_BROWSER_SHOTS, else a printed temporary
folder); with KAPPANB_DOCS_SCREENSHOTS=1 the README's pictures in docs/ are replaced by
them (docs/screenshots/README.md)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from kappanb.stack.embedded import EmbeddedStack
from tests.browser import tools
from tests.browser.lab_server import LabServer, WheelPrefix
from tests.helpers import settings_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "01-kappa-in-ten-minutes.ipynb"
SCRIPT = tools.HERE / "notebook.spec.mjs"
SCRIPT_TIMEOUT_S = 900
BURST = 400_000
"""Events sent at once behind v1's back: more than it reads in several seconds on a quiet
machine, so that every view can be seen to say "catching up" before it is back."""
DOCS = {"nb-replay.png": "watch-panel.png", "nb-panel.png": "extension-panel.png"}


@pytest.fixture
def notebook_lab(lab_prefix: WheelPrefix, tmp_path: Path) -> Iterator[tuple[LabServer, Path]]:
    """JupyterLab on a kappanb home of its own, nothing running in it yet."""
    home = tmp_path / "home"
    env = {**lab_prefix.env(home), "KAPPANB_CHECKPOINT_INTERVAL": "2 s"}  # as nbval's kernels
    server = LabServer.start(env, tmp_path / "lab")
    try:
        yield server, home
    finally:
        server.stop()
        with contextlib.suppress(Exception):  # `%kappa down` did not run: stop what `up` started
            EmbeddedStack(settings_for(home)).down()
        if not os.environ.get("KAPPANB_KEEP_TEST_HOMES"):
            shutil.rmtree(home, ignore_errors=True)


def test_notebook_01_in_the_lab(
    browser_tools: Path, notebook_lab: tuple[LabServer, Path], tmp_path: Path
) -> None:
    lab, home = notebook_lab
    began = time.monotonic()
    shutil.copy(NOTEBOOK, lab.root_dir / NOTEBOOK.name)
    shots = Path(os.environ.get("KAPPANB_BROWSER_SHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    print(f"browser test screenshots: {shots}")
    burst = [sys.executable, str(tools.HERE / "burst.py"), "payments.v1", str(BURST)]
    done = tools.run_spec(
        {"KAPPA_LAB_URL": lab.url, "KAPPA_TOKEN": lab.token, "KAPPA_NOTEBOOK": NOTEBOOK.name,
         "KAPPA_NOTEBOOK_FILE": str(lab.root_dir / NOTEBOOK.name), "KAPPA_LAB_LOG": str(lab.log),
         "KAPPA_BURST": json.dumps(burst), "KAPPANB_HOME": str(home), "PYTHONPATH": str(ROOT),
         "KAPPA_OUT_DIR": str(shots), "KAPPA_PROFILE": str(tmp_path / "chromium"),
         "KAPPA_CHROMIUM": str(browser_tools), "KAPPA_TIMEOUT_S": str(SCRIPT_TIMEOUT_S)},
        timeout=SCRIPT_TIMEOUT_S + 30, script=SCRIPT,
    )  # fmt: skip
    print(done.stdout)
    if done.returncode != 0:
        pytest.fail(
            f"notebook.spec.mjs exited {done.returncode}:\n{done.stderr}\n"
            f"screenshots in {shots}; JupyterLab's log ends:\n{lab.tail(40)}",
            pytrace=False,
        )
    # After `down` and the panel's quiet polls: no librdkafka client left in any process.
    left = {p.pid: kafka_threads(p) for p in jupyter_processes(lab)}
    assert not any(left.values()), f"Kafka clients alive after `down` (pid: threads): {left}"
    for name in ("nb-run.png", "nb-burst.png", "nb-replay.png", "nb-panel.png", "nb-down.png"):
        assert (shots / name).stat().st_size > 5_000, f"{name} is (nearly) empty"
    if os.environ.get("KAPPANB_DOCS_SCREENSHOTS") == "1":
        for shot, doc in DOCS.items():
            shutil.copy(shots / shot, ROOT / "docs" / doc)
    print(f"notebook 01 in the lab: {time.monotonic() - began:.0f} s")


def jupyter_processes(lab: LabServer) -> list[psutil.Process]:
    server = psutil.Process(lab.process.pid)
    return [server, *server.children(recursive=True)]


def kafka_threads(process: psutil.Process) -> list[str]:
    """The names of the process's librdkafka threads (a client's "rdk:main", "rdk:broker1")."""
    names = []
    for task in Path(f"/proc/{process.pid}/task").glob("*/comm"):
        with contextlib.suppress(OSError):
            names.append(task.read_text().strip())
    return [n for n in names if n.startswith("rdk:")]
