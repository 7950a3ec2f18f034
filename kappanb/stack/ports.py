"""Which loopback ports are free, who holds a taken one, and picking replacements."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from kappanb.exceptions import PortInUseError

HOST = "127.0.0.1"


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when a server could listen on host:port now (as the JVMs do, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_owner(port: int) -> str:
    """A readable description of the process listening on ``port``, if it can be found."""
    try:
        connections = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, PermissionError):
        return "another process (run as its user to see which)"
    for conn in connections:
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            if conn.pid is None:
                return "another process (owner not visible)"
            try:
                proc = psutil.Process(conn.pid)
                return f"pid {conn.pid} ({proc.name()}: {' '.join(proc.cmdline()[:3])[:80]})"
            except psutil.Error:
                return f"pid {conn.pid}"
    return "another process"


def _ephemeral_ports() -> range:
    """The ports the OS hands out for port 0 and outgoing connections (Linux says which)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(49152, 65536)  # the IANA range, which macOS and Windows use


def free_port(avoid: Iterable[int] = ()) -> int:
    """A port free now, not in ``avoid``, and outside the ephemeral range: a port the OS
    picked for us from that range can be taken a moment later by any process that binds
    port 0. Flink's JobManager does so for its blob server before its REST endpoint
    starts, and once took the REST port chosen for it."""
    avoid_set = set(avoid)
    ephemeral = _ephemeral_ports()
    low, high = 20000, min(ephemeral.start, 65536)
    if high - low >= 1000:
        candidates = random.Random().sample(range(low, high), min(200, high - low))
        for port in candidates:
            if port not in avoid_set and port_is_free(port):
                return port
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid_set:
            return port
    raise PortInUseError("could not find a free port on 127.0.0.1")


@dataclass(frozen=True)
class PortChoice:
    """The port a service will use, and why it is not the one asked for, if so."""

    name: str
    port: int
    wanted: int

    @property
    def moved(self) -> bool:
        return self.port != self.wanted

    def describe(self) -> str:
        return (
            f"port {self.wanted} for {self.name} is taken by {port_owner(self.wanted)}; "
            f"using {self.port} instead"
        )


def choose_ports(
    wanted: Mapping[str, int], explicit: Iterable[str], labels: Mapping[str, str]
) -> dict[str, PortChoice]:
    """Keep each wanted port when free; replace taken defaults; refuse taken explicit ones."""
    explicit_set = set(explicit)
    chosen: dict[str, PortChoice] = {}
    used: set[int] = set()
    for name, port in wanted.items():
        label = labels.get(name, name)
        if port_is_free(port) and port not in used:
            chosen[name] = PortChoice(label, port, port)
        elif name in explicit_set:
            raise PortInUseError(
                f"port {port} for {label} is taken by {port_owner(port)}. Stop that process, "
                f"or choose another port (unset the variable to let kappanb pick one)."
            )
        else:
            chosen[name] = PortChoice(label, free_port(avoid=used | set(wanted.values())), port)
        used.add(chosen[name].port)
    return chosen
