from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kappanb.exceptions import PortInUseError
from kappanb.stack.ports import choose_ports, free_port, port_is_free, port_owner


@pytest.fixture
def taken_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def test_listening_port_is_not_free(taken_port: int) -> None:
    assert not port_is_free(taken_port)
    assert port_is_free(free_port())


def test_owner_names_this_process(taken_port: int) -> None:
    assert f"pid {os.getpid()}" in port_owner(taken_port)


def test_taken_default_port_is_replaced_and_explained(taken_port: int) -> None:
    chosen = choose_ports({"kafka": taken_port}, explicit=(), labels={"kafka": "the broker"})
    choice = chosen["kafka"]
    assert choice.moved and choice.port != taken_port and port_is_free(choice.port)
    text = choice.describe()
    assert f"port {taken_port} for the broker is taken by pid {os.getpid()}" in text
    assert f"using {choice.port} instead" in text


def test_taken_explicit_port_is_an_error_naming_port_and_owner(taken_port: int) -> None:
    with pytest.raises(PortInUseError) as err:
        choose_ports({"kafka": taken_port}, explicit=("kafka",), labels={})
    assert str(taken_port) in str(err.value)
    assert f"pid {os.getpid()}" in str(err.value)


def test_two_services_never_get_the_same_port() -> None:
    port = free_port()
    chosen = choose_ports({"a": port, "b": port}, explicit=(), labels={})
    assert chosen["a"].port == port
    assert chosen["b"].port != port


def test_a_picked_port_is_outside_the_range_port_0_binds_take() -> None:
    # The JobManager's blob server binds port 0 before its REST endpoint starts: a REST
    # port picked from the ephemeral range was once taken by it (CI, second home).
    text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
    low, high = (int(n) for n in text.split())
    picked = {free_port() for _ in range(20)}
    assert all(port < low or port > high for port in picked), picked
    assert len(picked) > 1  # random, so two homes starting at once rarely pick the same
