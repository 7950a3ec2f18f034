"""HTTP status codes for kappanb's errors; each body is ``{"message": str(error)}``.

400 is the rule for a refused command (its message says what to do); the exceptions are
things that do not exist (404), a job or stack busy with another command or a version
not ready for what was asked (409), and a stack that is not running or a service that
does not answer (503, 502).
"""

from __future__ import annotations

from kappanb.exceptions import (
    ArchiveReplayError,
    FlinkRestError,
    HistoryGoneError,
    JobBusyError,
    KappaError,
    NotCaughtUpError,
    RunConflictError,
    RunNotFoundError,
    ServiceStartError,
    StackBusyError,
    StackNotRunningError,
    UnknownJobError,
    UnknownTopicError,
    UnknownVersionError,
)

_STATUS: tuple[tuple[type[KappaError], int], ...] = (
    (UnknownJobError, 404),
    (UnknownVersionError, 404),
    (UnknownTopicError, 404),
    (JobBusyError, 409),
    (StackBusyError, 409),
    (NotCaughtUpError, 409),
    (RunConflictError, 409),
    (HistoryGoneError, 409),  # replay from earliest on a log that lost its start
    (ArchiveReplayError, 409),  # replay from an archive that does not meet the log
    (RunNotFoundError, 409),  # e.g. stop a version that is not running
    (StackNotRunningError, 503),
    (ServiceStartError, 503),
    (FlinkRestError, 502),
)


def status_for(error: KappaError) -> int:
    """The HTTP status that says what kind of refusal ``error`` is."""
    return next((code for kind, code in _STATUS if isinstance(error, kind)), 400)
