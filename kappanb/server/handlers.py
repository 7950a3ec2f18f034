"""The tornado handlers of kappanb's Jupyter server endpoint (routes: `routes`).

Jupyter's own authentication guards every method (token or login cookie, and XSRF for
a cookie's POST); kappanb's work runs in a thread pool; every answer is JSON and every
error is ``{"message": ...}`` with the status `errors.status_for` gives.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import IOLoop

from kappanb.exceptions import KappaError, NotCaughtUpError, RequestError
from kappanb.server import actions
from kappanb.server.errors import status_for
from kappanb.workbench import Workbench

SETTINGS_KEY = "kappanb"
"""Where the `WorkbenchHolder` lives in the tornado application's settings."""

_PENDING = "kappanb_state_pending"
"""The state being assembled now, which every GET that comes meanwhile awaits."""

ROUTES_TEXT = (
    "GET kappanb/api/state, GET kappanb/api/names, POST kappanb/api/stack, "
    "POST kappanb/api/jobs/JOB/promote|rollback|stop"
)

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kappanb-server")
"""kappanb's blocking calls (a promote waits for a checkpoint; `up` for the services)."""


class KappaHandler(APIHandler):
    """Runs a kappanb call off the event loop and answers its JSON, or its error."""

    auth_resource = "kappanb"

    @property
    def holder(self) -> actions.WorkbenchHolder:
        holder: actions.WorkbenchHolder = self.settings[SETTINGS_KEY]
        return holder

    async def answer(self, work: Callable[[Workbench], actions.Answer]) -> None:
        holder = self.holder
        try:
            body = await IOLoop.current().run_in_executor(_POOL, lambda: work(holder.get()))
        except KappaError as exc:
            self.refuse(status_for(exc), _for_http(exc))
            return
        except Exception as exc:  # a bug: still a readable JSON message, and a traceback
            self.log.exception("kappanb: %s %s failed", self.request.method, self.request.path)
            self.refuse(500, f"kappanb failed unexpectedly ({type(exc).__name__}: {exc}); "
                             "the Jupyter server's log has the details")  # fmt: skip
            return
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 405:  # tornado's own refusal: say which method each route takes
            self.refuse(405, f"{self.request.method} is not allowed on {self.request.path}: "
                             f"the routes are {ROUTES_TEXT}")  # fmt: skip
            return
        if status_code == 403 and not self.current_user:  # rather than "_xsrf missing"
            self.refuse(403, "not logged in to this Jupyter server: open JupyterLab with its "
                             "token, or send the header 'Authorization: token TOKEN'")  # fmt: skip
            return
        super().write_error(status_code, **kwargs)

    def refuse(self, status: int, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message}))


class StateHandler(KappaHandler):
    """GET: the stack, the jobs and their runs (`Workbench.overview`). Panels of several
    browser tabs that ask at once share one pass over Flink and Kafka."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        pending: asyncio.Future[tuple[int, dict[str, Any]]] | None = self.settings.get(_PENDING)
        if pending is None or pending.done():
            pending = asyncio.ensure_future(self.answer_once())
            self.settings[_PENDING] = pending
        answer = await asyncio.shield(pending)
        status, body = answer
        self.set_status(status)
        self.finish(json.dumps(body))

    async def answer_once(self) -> tuple[int, dict[str, Any]]:
        holder = self.holder
        try:
            body = await IOLoop.current().run_in_executor(
                _POOL, lambda: actions.state(holder.get())
            )
        except Exception as exc:
            self.log.exception("kappanb: the state could not be assembled")
            return 500, {"message": f"kappanb could not assemble its state ({exc}); the "
                                    "Jupyter server's log has the details"}  # fmt: skip
        return 200, body


class NamesHandler(KappaHandler):
    """GET: subcommands, flags and the registry's names, for completion."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self.answer(actions.names)


class StackHandler(KappaHandler):
    """POST {"action": "up"|"down"}: start or stop the embedded stack."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        raw = self.request.body
        await self.answer(lambda wb: actions.stack(wb, raw))


class JobActionHandler(KappaHandler):
    """POST to kappanb/api/jobs/JOB/ACTION: promote, rollback or stop."""

    @web.authenticated
    @authorized
    async def post(self, job: str, action: str) -> None:
        do = actions.JOB_ACTIONS.get(action)
        if do is None:
            known = ", ".join(actions.JOB_ACTIONS)
            self.refuse(400, str(RequestError(
                f"unknown action {action!r} for job {job!r}: use one of {known} "
                f"(POST kappanb/api/jobs/{job}/ACTION)"
            )))  # fmt: skip
            return
        raw = self.request.body
        await self.answer(lambda wb: do(wb, job, raw))


class NoRouteHandler(KappaHandler):
    """Anything else under kappanb/api: a 404 that lists the routes."""

    def _missing(self) -> None:
        self.refuse(404, f"kappanb has no endpoint {self.request.path!r}: the routes are "
                         f"{ROUTES_TEXT}")  # fmt: skip

    @web.authenticated
    @authorized
    async def get(self, *_args: str) -> None:
        self._missing()

    @web.authenticated
    @authorized
    async def post(self, *_args: str) -> None:
        self._missing()


def _for_http(error: KappaError) -> str:
    """The error's message; a refused promote also says how to force it over HTTP."""
    if isinstance(error, NotCaughtUpError):
        return f'{error} (in a request: "force": true)'
    return str(error)


def routes(base_url: str) -> list[tuple[str, type[KappaHandler]]]:
    """The URL patterns under the server's ``base_url``, most specific first."""
    api = url_path_join(base_url, "kappanb", "api")
    return [
        (url_path_join(api, "state"), StateHandler),
        (url_path_join(api, "names"), NamesHandler),
        (url_path_join(api, "stack"), StackHandler),
        (url_path_join(api, "jobs", "([^/]+)", "([^/]+)"), JobActionHandler),
        (api + "(/.*)?", NoRouteHandler),
    ]
