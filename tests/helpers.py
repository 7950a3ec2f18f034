"""Helpers shared by tests (not fixtures)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kappanb.settings import StackSettings


def settings_for(home: Path, **overrides: Any) -> StackSettings:
    """Settings for a temporary home that share the user's jar cache (no refetching)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPPANB_")}
    env["KAPPANB_HOME"] = str(home)
    for key in ("KAPPANB_CACHE_DIR", "KAPPANB_JARS_DIR"):
        if key in os.environ:
            env[key] = os.environ[key]
    return StackSettings.from_env(env, start_timeout=180.0, **overrides)
