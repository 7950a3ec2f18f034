"""What each POST route does with the server's `Workbench`, and the JSON it answers.

Blocking calls (Flink, Kafka, the stack's processes): the handlers run these in a thread
pool, never on the server's event loop. The server's Workbench never starts the stack by
itself (``auto_up=False``): a job action on a stopped stack is refused with 503.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kappanb.commands.vocabulary import vocabulary
from kappanb.server import bodies
from kappanb.stack.status import UpResult
from kappanb.workbench import Say, Workbench

Answer = dict[str, Any]


class WorkbenchHolder:
    """The server's one Workbench, made on first use from the server's environment
    (``KAPPANB_HOME`` ...), so kernels the server starts share its home."""

    def __init__(self, say: Say) -> None:
        self._say = say
        self._workbench: Workbench | None = None
        self._lock = threading.Lock()

    def get(self) -> Workbench:
        with self._lock:
            if self._workbench is None:
                self._workbench = Workbench(auto_up=False, say=self._say)
            return self._workbench


def state(wb: Workbench) -> Answer:
    return wb.overview().to_dict()


def names(wb: Workbench) -> Answer:
    return vocabulary(wb.registry).to_dict()


def stack(wb: Workbench, raw: bytes) -> Answer:
    body = bodies.STACK.read(raw)
    if body["action"] == "up":
        return {"message": _started(wb.up())}
    return {"message": str(wb.down())}


def _started(result: UpResult) -> str:
    if not result.status.healthy:
        return str(result)  # what is not healthy, service by service
    done = (
        f"started {', '.join(result.started)} in {result.seconds:.0f} s"
        if result.started
        else "the stack was already running; nothing started"
    )
    return "\n".join([*result.notes, done, *result.runs])


def promote(wb: Workbench, job: str, raw: bytes) -> Answer:
    body = bodies.PROMOTE.read(raw)
    switched = wb.promote(job, body["version"], force=body.get("force", False),
                          reason=body.get("reason", ""))  # fmt: skip
    return {"message": str(switched), "serving": switched.switch.to_version}


def rollback(wb: Workbench, job: str, raw: bytes) -> Answer:
    body = bodies.ROLLBACK.read(raw)
    switched = wb.rollback(job, reason=body.get("reason", ""))
    return {"message": str(switched), "serving": switched.switch.to_version}


def stop(wb: Workbench, job: str, raw: bytes) -> Answer:
    body = bodies.STOP.read(raw)
    return {"message": wb.stop(job, body["version"]).message}


JOB_ACTIONS: dict[str, Callable[[Workbench, str, bytes], Answer]] = {
    "promote": promote,
    "rollback": rollback,
    "stop": stop,
}
