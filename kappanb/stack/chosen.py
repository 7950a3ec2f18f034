"""The stack a profile names: the embedded one, or an existing cluster."""

from __future__ import annotations

import os
from collections.abc import Mapping

from kappanb.profiles.load import load_profile
from kappanb.settings import StackSettings
from kappanb.stack.base import Stack
from kappanb.stack.embedded import EmbeddedStack
from kappanb.stack.external import ExternalStack


def stack_for(profile: str | None = None, env: Mapping[str, str] | None = None) -> Stack:
    """The stack of ``profile`` (default: ``$KAPPANB_PROFILE``, the file's default, or
    ``embedded``), with the settings of the environment."""
    env = os.environ if env is None else env
    chosen = load_profile(profile, env=env)
    if chosen.kind == "embedded":
        return EmbeddedStack(StackSettings.from_env(env))
    return ExternalStack(chosen, StackSettings.from_env(env, home=chosen.home))
