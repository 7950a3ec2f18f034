"""kappanb's JupyterLab extension, installed from the built wheel, in headless Chromium.

The extension highlights a `%%kappa job` cell as SQL, completes the topic's table name
after FROM, and its Kappa panel shows the job and promotes v2 after a confirmation; the
registry then serves v2. Screenshots of the cell and the panel go to a temporary folder
(printed), or to KAPPANB_BROWSER_SHOTS when set: see docs/screenshots/README.md."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.browser import tools
from tests.browser.conftest import PreparedJob
from tests.browser.lab_server import (
    LABEXTENSION_FOLDER,
    SERVER_CONFIG_FOLDER,
    LabServer,
    WheelPrefix,
    sections,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

SCRIPT_TIMEOUT_S = 150


def test_extension_from_the_wheel_promotes_in_the_panel(
    browser_tools: Path, lab_prefix: WheelPrefix, prepared_job: PreparedJob, lab: LabServer,
    tmp_path: Path,
) -> None:  # fmt: skip
    env = lab_prefix.env(prepared_job.workbench.settings.home)
    assert_installed_from(lab_prefix, env)
    state = lab.get("kappanb/api/state")  # the server part answers, with the job in it
    assert prepared_job.job in [j["name"] for j in state["jobs"]], state

    notebook = "kappa.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, lab.root_dir / notebook)
    shots = Path(os.environ.get("KAPPANB_BROWSER_SHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    print(f"browser test screenshots: {shots}")

    done = subprocess.run(
        [tools.node(), str(tools.SPEC)], cwd=tools.HERE, capture_output=True, text=True,
        timeout=SCRIPT_TIMEOUT_S + 30, check=False,
        env={**os.environ, "KAPPA_LAB_URL": lab.url, "KAPPA_TOKEN": lab.token,
             "KAPPA_NOTEBOOK": notebook, "KAPPA_JOB": prepared_job.job,
             "KAPPA_SQL_TABLE": prepared_job.sql_table, "KAPPA_OUT_DIR": str(shots),
             "KAPPA_PROFILE": str(tmp_path / "chromium"), "KAPPA_CHROMIUM": str(browser_tools),
             "KAPPA_TIMEOUT_S": str(SCRIPT_TIMEOUT_S)},
    )  # fmt: skip
    print(done.stdout)
    if done.returncode != 0:
        pytest.fail(
            f"lab.spec.mjs exited {done.returncode}:\n{done.stderr}\n"
            f"screenshots in {shots}; JupyterLab's log ends:\n{lab.tail(30)}",
            pytrace=False,
        )
    for name in ("sql-cell.png", "panel.png"):
        assert (shots / name).stat().st_size > 5_000, f"{name} is (nearly) empty"

    assert prepared_job.workbench.serving(prepared_job.job) == 2  # the click reached the registry


def assert_installed_from(prefix: WheelPrefix, env: dict[str, str]) -> None:
    """The lab extension, the server part's switch and kappanb itself come from the prefix."""
    listing = prefix.jupyter(env, "labextension", "list")
    folder = str(prefix.root / "share" / "jupyter" / "labextensions")
    ours = sections(listing, LABEXTENSION_FOLDER).get(folder, "")
    assert re.search(r"^kappanb-lab v\S+ enabled OK", ours, re.M), (
        f"`jupyter labextension list` shows no enabled kappanb-lab in {folder}:\n{listing}"
    )
    listing = prefix.jupyter(env, "server", "extension", "list")
    folder = str(prefix.root / "etc" / "jupyter")
    ours = sections(listing, SERVER_CONFIG_FOLDER).get(folder, "")
    assert re.search(r"^kappanb\.server enabled$", ours, re.M), (
        f"`jupyter server extension list` shows kappanb.server not enabled by {folder}:\n{listing}"
    )
    assert re.search(r"^kappanb\.server \S* ?OK$", ours, re.M), listing
    where = subprocess.run(
        [sys.executable, "-c", "import kappanb.server; print(kappanb.server.__file__)"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(prefix.site_packages), where
