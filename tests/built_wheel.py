"""The kappanb wheel built from this repository, as a user's `pip install kappanb` gets it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

LABEXTENSION_PACKAGE = "share/jupyter/labextensions/kappanb-lab/package.json"
SERVER_CONFIG = "etc/jupyter/jupyter_server_config.d/kappanb.json"


def build_wheel(dest: Path, timeout: float = 480.0) -> Path:
    """`pip wheel . --no-deps` into ``dest`` (the build hook builds the lab extension)."""
    log = dest / "pip-wheel.log"
    with log.open("w") as out:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-w", str(dest)],
            stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False,
        )  # fmt: skip
    wheels = sorted(dest.glob("kappanb-*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        tail = "\n".join(log.read_text().splitlines()[-40:])
        raise RuntimeError(f"building the kappanb wheel failed (log {log}):\n{tail}")
    return wheels[0]


def data_path(wheel: Path, member: str) -> str:
    """Where a file installed under the prefix (``share/...``, ``etc/...``) sits in a wheel."""
    name, version = wheel.name.split("-")[:2]
    return f"{name}-{version}.data/data/{member}"
