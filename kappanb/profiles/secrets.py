"""Secrets of a profile (passwords, keys): read from the environment or a file, never
written anywhere.

A `Secret` prints as where it comes from (``<secret from $KAFKA_PASSWORD>``), never as its
value; only `Secret.reveal` gives the value, to the client that needs it. A profile file
may not hold a secret's value itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kappanb.exceptions import SettingsError


@dataclass(frozen=True)
class Secret:
    """A value to hand to a client, and to nothing else."""

    source: str
    """Where it comes from, for messages: ``$NAME`` or a file path."""
    _value: str = field(repr=False, compare=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return f"<secret from {self.source}>"

    def __repr__(self) -> str:
        return f"Secret({self.source!r})"


def secret_from(
    name: str, spec: object, env: Mapping[str, str], base: Path | None = None
) -> Secret:
    """The secret ``name`` as a profile describes it: ``{env: VAR}`` or ``{file: PATH}``."""
    if not isinstance(spec, Mapping) or len(spec) != 1 or not ({"env", "file"} & set(spec)):
        raise SettingsError(
            f"secret {name!r}: give where it comes from, `{{env: VARIABLE}}` or "
            "`{file: PATH}`; a profile never holds a secret's value itself"
        )
    if "env" in spec:
        var = str(spec["env"])
        if var not in env:
            raise SettingsError(
                f"secret {name!r} comes from the environment variable {var}, which is not set"
            )
        return Secret(f"${var}", env[var])
    path = Path(str(spec["file"])).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    try:
        value = path.read_text().strip()
    except OSError as exc:
        raise SettingsError(f"secret {name!r}: cannot read {path} ({exc.strerror})") from None
    return Secret(str(path), value)


def redact(text: str, secrets: Mapping[str, Secret]) -> str:
    """``text`` with every secret's value replaced by where it comes from."""
    for secret in secrets.values():
        if secret.reveal():
            text = text.replace(secret.reveal(), str(secret))
    return text
