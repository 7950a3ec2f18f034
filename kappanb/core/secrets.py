"""Secrets (passwords, keys): read from the environment or a file, never written anywhere.

A `Secret` prints as where it comes from (``<secret from $KAFKA_PASSWORD>``), never as its
value; only `Secret.reveal` gives the value, to the client that needs it. A profile file
may not hold a secret's value itself. `redact` takes every secret's value out of a text
(an error message, generated SQL) before anyone sees it.

In the bottom package because the profile (`kappanb.profiles`) and every client that
connects with it (`kappanb.kafka.connection`) share the same `Secret`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kappanb.exceptions import KappaError, SettingsError


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
    """``text`` with every secret's value replaced by where it comes from.

    Also the forms a value takes in what kappanb generates: quoted in a JAAS line or JSON
    (``\\`` and ``"`` escaped) and in a SQL string literal (``'`` doubled)."""
    for secret in secrets.values():
        for form in sorted(_forms(secret.reveal()), key=len, reverse=True):
            text = text.replace(form, str(secret))
    return text


def _forms(value: str) -> set[str]:
    if not value:
        return set()
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return {v for raw in (value, escaped) for v in (raw, raw.replace("'", "''"))}


@contextmanager
def redacted_errors(secrets: Mapping[str, Secret]) -> Iterator[None]:
    """Around work with generated text that holds secrets (a Kafka table's DDL): an error of
    kappanb's whose message shows a secret is raised again, of the same class, redacted."""
    try:
        yield
    except KappaError as exc:
        message = str(exc)
        shown = redact(message, secrets)
        if shown == message:
            raise
        raise type(exc)(shown) from None
