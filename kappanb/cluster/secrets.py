"""The local cluster's password and keys: made once by the first `up`, kept in 0600 files
under the cluster's home, handed to the services through files and the environment, and
never printed (the profile names the files: ``{file: PATH}``)."""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kappanb.cluster.layout import ClusterLayout
from kappanb.exceptions import SettingsError

KAFKA_USER = "kappa"
_KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class ClusterSecrets:
    """The values, for the processes that need them; ``repr`` shows none."""

    kafka_password: str = field(repr=False)
    s3_access_key: str = field(repr=False)
    s3_secret_key: str = field(repr=False)

    @property
    def catalog_credential(self) -> str:
        return f"{self.s3_access_key}:{self.s3_secret_key}"

    def values(self) -> list[str]:
        """Every secret value (what must appear in no output, file or log)."""
        return [self.kafka_password, self.s3_access_key, self.s3_secret_key]

    def s3_environment(self) -> dict[str, str]:
        """The keys as AWS clients (SeaweedFS, Flink's S3 file system) read them."""
        return {"AWS_ACCESS_KEY_ID": self.s3_access_key,
                "AWS_SECRET_ACCESS_KEY": self.s3_secret_key}  # fmt: skip


def ensure_secrets(layout: ClusterLayout) -> ClusterSecrets:
    """The cluster's secrets: read from their files, each made (once) when missing."""
    folder = layout.secrets_dir
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    password = _kept(layout.kafka_password, lambda: secrets.token_urlsafe(24))
    access = _kept(
        layout.s3_access_key,
        lambda: "KAPPA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(15)),
    )
    secret = _kept(layout.s3_secret_key, lambda: secrets.token_urlsafe(30))
    found = ClusterSecrets(password, access, secret)
    _write_private(layout.catalog_credential, found.catalog_credential)
    return found


def _kept(path: Path, make: Callable[[], str]) -> str:
    if path.is_file():
        value = path.read_text().strip()
        if value:
            _check_private(path)
            return value
        path.unlink()
    value = make()
    _write_private(path, value)
    return value


def _write_private(path: Path, value: str) -> None:
    """``value`` in ``path``, readable by its owner only from the first byte on."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)  # no newline: Kafka's directory config provider reads it whole
    tmp.replace(path)


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SettingsError(
            f"{path} is readable by others (mode {mode:o}): run `chmod 600 {path}`, or "
            "delete it and run `kappanb cluster up` again to make a new one"
        )
