"""kappanb's errors as HTTP statuses: what does not exist, what is busy or not ready,
what needs the stack, and everything else a refused command (400)."""

from __future__ import annotations

import pytest

from kappanb.exceptions import (
    ArchiveNotFoundError,
    ArchiveReplayError,
    CommandLineError,
    FlinkRestError,
    JobBusyError,
    KappaError,
    NotCaughtUpError,
    PromoteError,
    RequestError,
    RunConflictError,
    RunNotFoundError,
    StackBusyError,
    StackNotRunningError,
    UnknownJobError,
    UnknownVersionError,
)
from kappanb.server.errors import status_for


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UnknownJobError, 404), (UnknownVersionError, 404),
        (JobBusyError, 409), (StackBusyError, 409), (NotCaughtUpError, 409),
        (RunConflictError, 409), (RunNotFoundError, 409),
        (ArchiveReplayError, 409), (ArchiveNotFoundError, 409),
        (StackNotRunningError, 503), (FlinkRestError, 502),
        (PromoteError, 400), (RequestError, 400), (CommandLineError, 400), (KappaError, 400),
    ],
)  # fmt: skip
def test_status_for(error: type[KappaError], status: int) -> None:
    assert status_for(error("x")) == status


def test_a_refused_promote_that_waits_for_catch_up_is_still_a_promote_error() -> None:
    assert issubclass(NotCaughtUpError, PromoteError)  # the magics and CLI catch it as before
