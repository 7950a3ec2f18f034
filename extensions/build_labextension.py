"""hatch-jupyter-builder's build function for kappanb's JupyterLab extension.

Builds ``extensions/kappanb-lab`` into ``kappanb/labextension`` with npm (``npm ci``, then
``npm run build:prod``) when that output is missing or older than the extension's sources,
so ``pip install .`` and ``pip wheel .`` work from a fresh clone. Needs Node.js and npm;
without them it says so. pyproject.toml's ``[tool.hatch.build.hooks.jupyter-builder]``
names this function.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

EXTENSION = Path("extensions/kappanb-lab")
OUTPUT = Path("kappanb/labextension")
SOURCES = ("src", "style", "package.json", "package-lock.json", "tsconfig.json")
NODE_HELP = (
    "Building kappanb's JupyterLab extension needs Node.js 20.19+ (or 22.12+) and npm. "
    "Install them (Debian: apt-get install nodejs npm), then run the install again."
)


def _newest_mtime(path: Path) -> float:
    if path.is_file():
        return path.stat().st_mtime
    return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)


def _is_current(root: Path) -> bool:
    """The built extension exists and is newer than every source file."""
    built = root / OUTPUT
    if not (built / "package.json").is_file() or not (built / "static" / "style.js").is_file():
        return False
    sources = [root / EXTENSION / name for name in SOURCES if (root / EXTENSION / name).exists()]
    return _newest_mtime(built) >= max(_newest_mtime(s) for s in sources)


def _env() -> dict[str, str]:
    """PATH with this interpreter's scripts first: `jupyter-builder` runs from there."""
    dirs = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    return {**os.environ, "PATH": os.pathsep.join([*dirs, os.environ.get("PATH", "")])}


def build_labextension(target_name: str, version: str, force: str = "false") -> None:
    """Runs npm when the labextension is missing or stale (or ``force`` is "true")."""
    root = Path.cwd()
    if force.lower() != "true" and _is_current(root):
        print(f"kappanb: {OUTPUT} is current, not rebuilding it ({target_name}, {version})")
        return
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise RuntimeError(NODE_HELP)
    env = _env()
    if not shutil.which("jupyter-builder", path=env["PATH"]):
        raise RuntimeError(
            "jupyter-builder (a dependency of jupyterlab) is not installed where this build "
            "runs: install jupyter-builder, or build with pip's default build isolation."
        )
    for args in (["ci"], ["run", "build:prod"]):
        print(f"kappanb: npm {' '.join(args)} in {EXTENSION}", flush=True)
        subprocess.run([npm, *args], cwd=root / EXTENSION, env=env, check=True)
