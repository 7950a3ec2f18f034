"""The POST bodies: what each route takes, and what a wrong one is told."""

from __future__ import annotations

import pytest

from kappanb.exceptions import RequestError
from kappanb.server.bodies import PROMOTE, ROLLBACK, STACK, STOP


def test_good_bodies_come_back_as_sent() -> None:
    assert PROMOTE.read(b'{"version": 2, "reason": "why", "force": true}') == {
        "version": 2, "reason": "why", "force": True,
    }  # fmt: skip
    assert ROLLBACK.read(b"") == {} and ROLLBACK.read(b"  {} ") == {}
    assert STOP.read(b'{"version": 1}') == {"version": 1}
    assert STACK.read(b'{"action": "down"}') == {"action": "down"}


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"", "'version' is missing"),
        (b"{", "the body is not JSON"),
        (b"\xff\xfe", "the body is not JSON"),
        (b'"2"', "must be a JSON object, not str"),
        (b'{"version": null}', "'version' must be a whole number (1, 2, ...), not null"),
        (b'{"version": false}', "not false"),
        (b'{"version": 1.5}', "not 1.5"),
        (b'{"version": -3}', "'version' must be 1 or more, not -3"),
        (b'{"version": 2, "reason": ["a"]}', "'reason' must be text"),
        (b'{"version": 2, "force": 1}', "'force' must be true or false, not 1"),
        (b'{"version": 2, "extra": 1}', "unknown field 'extra' (the fields are: version, reason,"),
    ],
)
def test_a_wrong_promote_body_is_told_what_to_send(raw: bytes, says: str) -> None:
    with pytest.raises(RequestError) as refused:
        PROMOTE.read(raw)
    message = str(refused.value)
    assert message.startswith("POST kappanb/api/jobs/JOB/promote: ")
    assert says in message
    assert message.endswith('send e.g. {"version": 2, "reason": "fixes the count", "force": false}')


def test_the_stack_takes_up_or_down_only() -> None:
    with pytest.raises(RequestError, match='must be "up" or "down", not "UP"'):
        STACK.read(b'{"action": "UP"}')
    with pytest.raises(RequestError, match=r"unknown field 'version' \(the fields are: action\)"):
        STACK.read(b'{"action": "up", "version": 1}')
