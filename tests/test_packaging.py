"""The wheel carries the JupyterLab extension and the server part's switch: `pip install
kappanb` is all a user does to get both (issue 9)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.built_wheel import LABEXTENSION_PACKAGE, SERVER_CONFIG, data_path

pytestmark = pytest.mark.slow  # builds the wheel, the lab extension with it


def test_wheel_carries_the_built_lab_extension(kappanb_wheel: Path) -> None:
    with zipfile.ZipFile(kappanb_wheel) as wheel:
        names = set(wheel.namelist())
        package = json.loads(wheel.read(data_path(kappanb_wheel, LABEXTENSION_PACKAGE)))
    assert package["name"] == "kappanb-lab"
    static = data_path(kappanb_wheel, "share/jupyter/labextensions/kappanb-lab/static/")
    entries = [n for n in names if n.startswith(static + "remoteEntry.") and n.endswith(".js")]
    assert entries, f"no built remoteEntry.*.js under {static} in {kappanb_wheel.name}"
    assert package["jupyterlab"]["_build"]["load"].startswith("static/remoteEntry.")


def test_wheel_enables_the_server_part(kappanb_wheel: Path) -> None:
    with zipfile.ZipFile(kappanb_wheel) as wheel:
        names = set(wheel.namelist())
        config = json.loads(wheel.read(data_path(kappanb_wheel, SERVER_CONFIG)))
    assert config == {"ServerApp": {"jpserver_extensions": {"kappanb.server": True}}}
    assert "kappanb/server/__init__.py" in names
