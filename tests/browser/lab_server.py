"""JupyterLab on 127.0.0.1 with kappanb from a built wheel installed under a prefix of its own.

The venv's JupyterLab serves; PYTHONPATH, JUPYTER_PATH and JUPYTER_CONFIG_PATH point it (and
the kernels it starts) at the prefix, so the lab extension, the server part's switch and
the kappanb package all come from the wheel, not from the source tree."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JUPYTER = Path(sys.executable).parent / "jupyter"


@dataclass(frozen=True)
class WheelPrefix:
    """A wheel installed with `pip install --no-deps --prefix`."""

    root: Path

    @classmethod
    def install(cls, wheel: Path, root: Path) -> WheelPrefix:
        # --ignore-installed: the venv's own (editable) kappanb must not count as installed.
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed",
             "--no-warn-script-location", "--prefix", str(root), str(wheel)],
            check=True, timeout=300,
        )  # fmt: skip
        return cls(root)

    @property
    def site_packages(self) -> Path:
        found = sorted(self.root.glob("lib/python3*/site-packages"))
        if len(found) != 1:
            raise RuntimeError(f"expected one site-packages under {self.root}, found {found}")
        return found[0]

    def env(self, kappanb_home: Path) -> dict[str, str]:
        """The environment that makes Jupyter (and its kernels) use this prefix."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAPPANB_")}
        for key in ("KAPPANB_CACHE_DIR", "KAPPANB_JARS_DIR"):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(
            PYTHONPATH=str(self.site_packages),
            JUPYTER_PATH=str(self.root / "share" / "jupyter"),
            JUPYTER_CONFIG_PATH=str(self.root / "etc" / "jupyter"),
            KAPPANB_HOME=str(kappanb_home),
        )
        return env

    def jupyter(self, env: dict[str, str], *args: str) -> str:
        """`jupyter ARGS` with that environment: its stdout and stderr together."""
        done = subprocess.run(
            [str(JUPYTER), *args], env=env, cwd=self.root, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        return done.stdout + done.stderr


ANSI = re.compile(r"\x1b\[[0-9;]*m")
LABEXTENSION_FOLDER = re.compile(r"^(/\S+)$")


def sections(listing: str, folder_line: re.Pattern[str]) -> dict[str, str]:
    """A `jupyter ... extension list` output as {folder: its lines}, colours removed."""
    found: dict[str, str] = {}
    folder = None
    for raw in ANSI.sub("", listing).splitlines():
        line = raw.strip()
        if match := folder_line.match(line):
            folder = match.group(1)
            found.setdefault(folder, "")
        elif folder is not None and line:
            found[folder] += line + "\n"
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LabServer:
    """A running `jupyter lab`; `stop()` shuts its kernels down, then the server."""

    url: str
    token: str
    root_dir: Path
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @classmethod
    def start(cls, env: dict[str, str], work: Path, timeout: float = 90.0) -> LabServer:
        root_dir, settings = work / "root", work / "settings"
        notification = settings / "@jupyterlab" / "apputils-extension"
        for folder in (root_dir, notification, work / "workspaces", work / "runtime"):
            folder.mkdir(parents=True, exist_ok=True)
        # No news or update notification over the notebook.
        (notification / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        port, token = free_port(), secrets.token_hex(16)
        lab_env = {
            **env,
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces"),
            "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
            "IPYTHONDIR": str(work / "ipython"),
        }
        command = [
            str(JUPYTER), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            "--port-retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root_dir}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]  # fmt: skip
        if os.geteuid() == 0:
            command.append("--allow-root")
        log = work / "lab.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # not from the source tree's folder: no `kappanb` there
                command, env=lab_env, cwd=work, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        server = cls(f"http://127.0.0.1:{port}", token, root_dir, log, process)
        server._wait_ready(timeout)
        return server

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"jupyter lab exited ({code}):\n{self.tail()}")
            try:
                self.get("api/status")
                return
            except OSError as err:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"jupyter lab not up in {timeout:.0f} s:\n{self.tail()}"
                    ) from err
                time.sleep(0.5)

    def request(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """A JSON request with the token (Jupyter's own auth); raises HTTPError on 4xx/5xx."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/{path}", data=data, method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(req, timeout=30) as answer:
            raw = answer.read()
        return json.loads(raw) if raw else None

    def get(self, path: str) -> Any:
        return self.request(path)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                for kernel in self.get("api/kernels"):
                    self.request(f"api/kernels/{kernel['id']}", method="DELETE")
            except OSError:
                pass  # the server is going anyway; SIGTERM shuts the kernels down too
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
