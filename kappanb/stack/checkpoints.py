"""Where Flink keeps the runs' checkpoints and savepoints, as kappanb lists them.

A directory is a URI: ``file:///...`` on the embedded stack, ``s3://bucket/...`` on a
cluster profile. `StateStorage` opens either with pyarrow's file systems (the S3 endpoint
and keys are the ones the profile gives Flink's S3 file system: ``s3.endpoint``,
``s3.path.style.access``, ``s3.endpoint.region``, secrets ``s3.access-key`` and
``s3.secret-key``), so `latest_checkpoint` finds a run's newest retained checkpoint the
same way on both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from kappanb.core.secrets import Secret

_CHECKPOINT_DIR = re.compile(r"chk-(\d+)")


def as_dir_uri(where: str | Path) -> str:
    """A directory as a URI without a trailing slash (a Path becomes ``file://``)."""
    uri = where.as_uri() if isinstance(where, Path) else where
    return uri.rstrip("/")


def join(base: str | Path, *names: str) -> str:
    return "/".join([as_dir_uri(base), *names])


@dataclass(frozen=True)
class StateStorage:
    """How to open the file system of a checkpoint directory."""

    properties: Mapping[str, str] = field(default_factory=dict)
    """Flink's names: ``s3.endpoint``, ``s3.path.style.access``, ``s3.endpoint.region``."""
    secrets: Mapping[str, Secret] = field(default_factory=dict)
    """``s3.access-key``, ``s3.secret-key`` (else the S3 client's own chain: env, files)."""

    def filesystem(self, uri: str) -> tuple[Any, str]:
        """pyarrow's file system for ``uri`` and the path in it."""
        from pyarrow import fs  # type: ignore[import-untyped]

        parsed = urlparse(uri)
        if parsed.scheme in ("", "file"):
            return fs.LocalFileSystem(), unquote(parsed.path)
        if parsed.scheme not in ("s3", "s3a", "s3p"):
            raise ValueError(f"kappanb cannot list {uri}: only file:// and s3:// directories")
        return self._s3(), f"{parsed.netloc}{parsed.path}"

    def _s3(self) -> Any:
        from pyarrow import fs

        options: dict[str, Any] = {"connect_timeout": 5, "request_timeout": 20}
        endpoint = self.properties.get("s3.endpoint")
        if endpoint:
            scheme = urlparse(endpoint).scheme or "https"
            options.update(endpoint_override=endpoint, scheme=scheme)
        region = self.properties.get("s3.endpoint.region") or self.properties.get("s3.region")
        if region:
            options["region"] = region
        access, secret = self.secrets.get("s3.access-key"), self.secrets.get("s3.secret-key")
        if access is not None and secret is not None:
            options.update(access_key=access.reveal(), secret_key=secret.reveal())
        return fs.S3FileSystem(**options)

    def latest_checkpoint(self, checkpoints: str | Path, flink_job_id: str) -> str | None:
        """The URI of the job's newest complete checkpoint (``chk-N`` with its ``_metadata``)
        under ``checkpoints``, or None when it has none."""
        from pyarrow import fs

        job_dir = join(checkpoints, flink_job_id)
        filesystem, path = self.filesystem(job_dir)
        try:
            listed = filesystem.get_file_info(fs.FileSelector(path, allow_not_found=True))
        except OSError:
            return None
        numbers = sorted(
            (int(m.group(1)) for f in listed if (m := _CHECKPOINT_DIR.fullmatch(f.base_name))),
            reverse=True,
        )
        for number in numbers:
            metadata = f"{path}/chk-{number}/_metadata"
            if filesystem.get_file_info(metadata).type == fs.FileType.File:
                return f"{job_dir}/chk-{number}"
        return None

    def read_small_file(self, uri: str) -> bytes | None:
        """The content of a small file (a job's archive), or None when it is not there or
        cannot be read."""
        filesystem, path = self.filesystem(uri)
        try:
            with filesystem.open_input_stream(path) as stream:
                return bytes(stream.read())
        except (OSError, FileNotFoundError):
            return None
