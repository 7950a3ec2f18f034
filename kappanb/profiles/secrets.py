"""Secrets of a profile: `kappanb.core.secrets`, named here too for the profile's readers."""

from __future__ import annotations

from kappanb.core.secrets import Secret, redact, secret_from

__all__ = ["Secret", "redact", "secret_from"]
