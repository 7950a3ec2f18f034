"""The Binder launch files (binder/): they agree with the package, `start` never keeps the
server from starting, and `postBuild` then `start` give a working stack in a fresh venv."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
BINDER = REPO / "binder"
PROBE = Path(__file__).with_name("stack_probe.py")
START_TOOLS = ("bash", "env", "sleep", "date", "mkdir", "grep", "sed", "tail")
"""What binder/start runs besides kappanb: a PATH of only these has no java."""


def _requirements(lines: list[str]) -> set[str]:
    return {str(Requirement(line)) for line in lines if line.strip() and line[0] != "#"}


def _env(home: Path, path: str, **extra: str) -> dict[str, str]:
    """This environment without kappanb's settings (the jar cache is shared), a fresh home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPPANB_")}
    for key in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(key, None)
    for key in ("KAPPANB_CACHE_DIR", "KAPPANB_JARS_DIR"):
        if key in os.environ:
            env[key] = os.environ[key]
    return {**env, "KAPPANB_HOME": str(home), "PATH": path, **extra}


def _only_start_tools(bin_dir: Path, *extra: Path) -> str:
    bin_dir.mkdir()
    for tool in START_TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} is not on PATH"
        (bin_dir / tool).symlink_to(found)
    for program in extra:
        (bin_dir / program.name).symlink_to(program)
    return str(bin_dir)


def test_requirements_are_the_package_dependencies() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    listed = (BINDER / "requirements.txt").read_text().splitlines()
    assert _requirements(listed) == _requirements(project["dependencies"])
    assert "jupyterlab" in {Requirement(r).name for r in project["dependencies"]}
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    assert project["requires-python"] == ">=3.11,<3.12"
    assert set((BINDER / "apt.txt").read_text().split()) == {"openjdk-17-jdk-headless", "maven"}
    for script in ("postBuild", "start"):
        assert os.access(BINDER / script, os.X_OK), f"binder/{script} is not executable"


@pytest.mark.parametrize("missing", ["java", "kappanb"])
def test_start_says_what_is_missing_and_still_starts_the_server(
    missing: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    kappanb = Path(sys.executable).with_name("kappanb")
    path = _only_start_tools(tmp_path / "bin", *([kappanb] if missing == "java" else []))
    env = _env(home, path, KAPPANB_BINDER_WAIT="60")
    env.pop("JAVA_HOME", None)
    began = time.monotonic()
    server = [sys.executable, "-c", "raise SystemExit(7)"]  # stands in for JupyterLab
    launch = subprocess.run(
        [BINDER / "start", *server], env=env, capture_output=True, text=True, timeout=120
    )
    assert launch.returncode == 7, launch.stderr  # the server ran, its exit code came back
    if missing == "kappanb":
        assert "kappanb is not installed in this environment" in launch.stderr
        assert not home.exists()
        return
    # kappanb's own advice reaches the container's log, and start did not sit out the
    # 60 s head start once `up` had failed.
    assert time.monotonic() - began < 45
    assert "Java was not found on PATH" in launch.stderr
    assert "JupyterLab starts anyway" in launch.stderr
    log = home / "logs" / "binder-start.log"
    assert str(log) in launch.stderr
    assert "kappanb up failed with exit code 1" in log.read_text()
    assert not list((home / "run").glob("*.pid"))  # nothing was started


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_postbuild_then_start_run_the_stack_from_a_fresh_venv(tmp_path: Path) -> None:
    venv, home = tmp_path / "venv", tmp_path / "home"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    ours = Path(sys.executable).parent
    rest_of_path = [p for p in os.environ["PATH"].split(os.pathsep) if p and Path(p) != ours]
    # No head start: the probe's `kappanb up` races start's, as a quick first cell would.
    env = _env(home, os.pathsep.join([str(venv / "bin"), *rest_of_path]), KAPPANB_BINDER_WAIT="0")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    build = subprocess.run(
        [BINDER / "postBuild"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]

    log = home / "logs" / "binder-start.log"
    launch = subprocess.Popen(
        [BINDER / "start", "python", PROBE, log],
        cwd=tmp_path,  # not the repository: `import kappanb` must find the installed one
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = launch.communicate(timeout=420)
    finally:
        _stop_group(launch.pid)
        down = subprocess.run(
            [venv / "bin" / "kappanb", "down"], env=env, capture_output=True, timeout=180
        )
    startup = log.read_text() if log.is_file() else "(no log)"
    assert launch.returncode == 0, f"{err[-3000:]}\n--- {log}:\n{startup[-3000:]}"
    seen = json.loads(out.strip().splitlines()[-1])

    assert Path(seen["python"]).parent == venv / "bin"
    assert seen["kappanb_cli"] == str(venv / "bin" / "kappanb")
    assert Path(seen["kappanb_module"]).is_relative_to(venv)  # installed, not the work tree
    # The first cell's `up`, run while start's is under way (or before it), waits for the
    # other one instead of refusing, and succeeds.
    assert seen["concurrent_up"]["exit_code"] == 0, seen["concurrent_up"]["stderr"]
    assert seen["status_exit_code"] == 0, startup[-3000:]
    assert seen["start_outcome"].startswith("binder/start: stack up"), startup[-3000:]
    assert seen["read"] == seen["sent"]
    assert seen["flink_slots"] >= 1

    assert down.returncode == 0
    assert not list((home / "run").glob("*.pid"))
    stopped = subprocess.run(
        [venv / "bin" / "kappanb", "status", "--json"], env=env, capture_output=True, text=True
    )
    assert stopped.returncode == 3
    assert {s["state"] for s in json.loads(stopped.stdout)["services"][:3]} == {"stopped"}


def _stop_group(pgid: int) -> None:
    """Whatever of start's session is still running (its background `up`, if the probe
    failed early): the stack's own processes have sessions of their own."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
