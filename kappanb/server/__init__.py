"""kappanb's Jupyter server extension: the small authenticated endpoint the Kappa panel
and the editor's completion read (``kappanb/api/...`` under the server's base URL).

Enabled by ``jupyter-config/jupyter_server_config.d/kappanb.json`` (installed with the
wheel); by hand: ``jupyter server extension enable kappanb.server``. It opens no port of
its own: requests go through Jupyter's server, with its token or login cookie and XSRF.
The server's environment (``KAPPANB_HOME`` ...) says which home it shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "kappanb.server"}]


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    from kappanb.server.actions import WorkbenchHolder
    from kappanb.server.handlers import SETTINGS_KEY, routes

    web_app = serverapp.web_app
    web_app.settings[SETTINGS_KEY] = WorkbenchHolder(say=serverapp.log.info)
    web_app.add_handlers(".*$", routes(web_app.settings["base_url"]))  # type: ignore[no-untyped-call]
    serverapp.log.info("kappanb: endpoint at %skappanb/api/", web_app.settings["base_url"])
