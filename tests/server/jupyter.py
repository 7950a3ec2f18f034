"""A real Jupyter server in a subprocess on 127.0.0.1, with a known token and kappanb's
extension enabled by the very config file the wheel ships (jupyter-config/...)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from kappanb.stack.ports import free_port

REPO = Path(__file__).resolve().parents[2]
ENABLE = REPO / "jupyter-config" / "jupyter_server_config.d" / "kappanb.json"
TOKEN = "kappanb-test-token"


@dataclass(frozen=True)
class JupyterServer:
    url: str
    log: Path

    def get(self, path: str, *, token: bool = True) -> requests.Response:
        return requests.get(self.api(path), headers=self.auth(token), timeout=60)

    def post(self, path: str, body: object = None, *, token: bool = True) -> requests.Response:
        """POST ``body``: a str is sent as is (to send malformed JSON), anything else as JSON."""
        data = body if isinstance(body, str) else None if body is None else _json(body)
        return requests.post(self.api(path), data=data, headers=self.auth(token), timeout=120)

    def api(self, path: str) -> str:
        return f"{self.url}/kappanb/api/{path}"

    @staticmethod
    def auth(token: bool) -> dict[str, str]:
        return {"Authorization": f"token {TOKEN}"} if token else {}


def _json(body: object) -> str:
    import json

    return json.dumps(body)


def server_env(home: Path, config_dir: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The test's environment, but its own kappanb home and Jupyter directories."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAPPANB_", "JUPYTER_"))}
    for key in ("KAPPANB_CACHE_DIR", "KAPPANB_JARS_DIR"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(
        KAPPANB_HOME=str(home),
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_DATA_DIR=str(config_dir / "data"),
        JUPYTER_RUNTIME_DIR=str(config_dir / "runtime"),
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        **extra,
    )
    return env


@contextmanager
def jupyter_server(
    home: Path, workdir: Path, extra_env: Mapping[str, str] | None = None
) -> Iterator[JupyterServer]:
    """Start the server, wait until it answers, stop it afterwards."""
    config_dir = workdir / "jupyter-config"
    (config_dir / "jupyter_server_config.d").mkdir(parents=True)
    shutil.copy(ENABLE, config_dir / "jupyter_server_config.d" / ENABLE.name)
    port = free_port()
    command = [
        sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={workdir}",
    ]  # fmt: skip
    log = workdir / "jupyter.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
            env=server_env(home, config_dir, extra_env or {}),
        )  # fmt: skip
    server = JupyterServer(f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: JupyterServer, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Jupyter server exited:\n{server.log.read_text()[-3000:]}")
        try:
            if server.get("names").status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the Jupyter server did not answer:\n{server.log.read_text()[-3000:]}")
