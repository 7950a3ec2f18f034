"""The local cluster's ports on 127.0.0.1: by default ``19000`` and up, each kept across
down/up and moved when taken; from ``--port-base`` exactly, a taken one an error.

SeaweedFS also listens on its admin port + 10000 (its admin gRPC port, which `weed mini`
derives and which must not be given): that port is checked too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from kappanb.cluster.layout import (
    JOBMANAGER,
    KAFKA_NODES,
    OBJECT_STORE,
    SERVICES,
    kafka_service,
)
from kappanb.exceptions import PortInUseError, SettingsError
from kappanb.stack.ports import choose_ports, free_port, port_is_free, port_owner

DEFAULT_BASE = 19000
ADMIN_GRPC_OFFSET = 10000
"""`weed mini` serves its admin gRPC on the admin port + this."""

_OBJECT_STORE_PORTS = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc",
                       "s3", "s3_grpc", "iceberg", "admin")  # fmt: skip
OFFSETS: dict[str, int] = {
    **{f"kafka_{n}": n - 1 for n in KAFKA_NODES},
    **{f"kafka_{n}_sasl": 10 + n - 1 for n in KAFKA_NODES},
    **{f"kafka_{n}_controller": 20 + n - 1 for n in KAFKA_NODES},
    "flink_rest": 30,
    "flink_rpc": 31,
    **{f"s3_{name}": 40 + i for i, name in enumerate(_OBJECT_STORE_PORTS)},
}
"""Each port's distance from the base."""
MAX_BASE = 65535 - ADMIN_GRPC_OFFSET - max(OFFSETS.values())

SERVICE_PORTS: dict[str, tuple[str, ...]] = {
    **{
        kafka_service(n): (f"kafka_{n}", f"kafka_{n}_sasl", f"kafka_{n}_controller")
        for n in KAFKA_NODES
    },
    JOBMANAGER: ("flink_rest", "flink_rpc"),
    OBJECT_STORE: tuple(f"s3_{name}" for name in _OBJECT_STORE_PORTS),
}
"""The ports each service listens on (the TaskManagers take ephemeral ones)."""


def label(name: str) -> str:
    """What a port is for, in messages."""
    service = next(s for s, names in SERVICE_PORTS.items() if name in names)
    return f"{service} ({name})"


def check_base(base: int) -> None:
    if not 1024 <= base <= MAX_BASE:
        raise SettingsError(
            f"port base {base} is out of range: give one from 1024 to {MAX_BASE} (the cluster "
            f"uses the base and up to {max(OFFSETS.values())} above it, and one port "
            f"{ADMIN_GRPC_OFFSET} above its S3 admin port)"
        )


def plan_ports(
    services: Collection[str],
    remembered: Mapping[str, int],
    *,
    base: int | None = None,
    pinned: Mapping[str, str] | None = None,
) -> tuple[dict[str, int], list[str]]:
    """Ports for ``services`` (those about to start), and notes on any that moved.

    With ``base``, each port is the base plus its offset and a taken one is an error.
    Without, each is the one remembered (else the default), moved when taken, unless it is
    ``pinned`` (name -> why it cannot move): then taken is an error that says why."""
    pinned = dict(pinned or {})
    names = [n for s in SERVICES if s in services for n in SERVICE_PORTS.get(s, ())]
    if base is not None:
        check_base(base)
        pinned.update({n: "or choose another --port-base" for n in names})
        wanted = {n: base + OFFSETS[n] for n in names}
    else:
        wanted = {n: int(remembered.get(n, DEFAULT_BASE + OFFSETS[n])) for n in names}
    for name in names:
        if name in pinned and not port_is_free(wanted[name]):
            raise _taken(wanted[name], name, pinned[name])
    movable = {n: p for n, p in wanted.items() if n not in pinned}
    chosen = choose_ports(movable, (), {n: label(n) for n in movable})
    ports = {n: chosen[n].port if n in chosen else wanted[n] for n in names}
    notes = [c.describe() for c in chosen.values() if c.moved]
    if "s3_admin" in ports:
        ports["s3_admin"], note = _admin_port(ports, "s3_admin" in pinned, pinned.get("s3_admin"))
        notes += [note] if note else []
    return ports, notes


def _admin_port(ports: Mapping[str, int], fixed: bool, why: str | None) -> tuple[int, str]:
    """SeaweedFS's admin port, such that the one 10000 above it is free too."""
    port = ports["s3_admin"]
    derived = port + ADMIN_GRPC_OFFSET
    if derived <= 65535 and port_is_free(derived):
        return port, ""
    if fixed:
        raise _taken(derived, "s3_admin", why or "", what=f"{OBJECT_STORE} (admin gRPC)")
    others = set(ports.values())
    for _ in range(50):
        candidate = free_port(avoid=others)
        grpc = candidate + ADMIN_GRPC_OFFSET
        if grpc <= 65535 and grpc not in others and port_is_free(grpc):
            return candidate, (
                f"port {derived} for {OBJECT_STORE} (admin gRPC) is taken or out of range; "
                f"its admin port is {candidate} instead of {port}"
            )
    raise PortInUseError(f"found no free pair of ports for {OBJECT_STORE}'s admin server")


def _taken(port: int, name: str, why: str, what: str | None = None) -> PortInUseError:
    return PortInUseError(
        f"port {port} for {what or label(name)} is taken by {port_owner(port)}. Stop that "
        f"process, {why}".rstrip(", ")
        + "."
    )
