"""A job's view on an Iceberg REST catalog, through the REST view endpoints.

Created at the first switch (``POST namespaces/default/views``); replaced at each later one
by a commit (``POST namespaces/default/views/<job>``) that asserts the view's uuid, adds the
served table's schema and a view version selecting from it, and makes that version
current (``-1``: the one just added). A switch back to a table a version already selects
from (a rollback) makes that version current again instead of adding an equal one.
pyiceberg's RestCatalog only offers view calls when the server advertises them, so kappanb
speaks to the endpoints through its session.

A catalog without view endpoints (it answers the view route with a 404 that is no
``NoSuchViewException``, or 400, 405, 501) keeps only the namespace property: kappanb logs
that once per catalog and process and the switch goes on. A catalog that has views but
refuses the update fails the switch (nothing is switched): the view never lags behind.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from kappanb.exceptions import PromoteError, ServingViewConflictError
from kappanb.tables.catalog import DEFAULT_NAMESPACE
from kappanb.tables.view_metadata import TABLE_KEY, view_schema, view_version

log = logging.getLogger("kappanb.serving_view")
_SAID_UNSUPPORTED: set[str] = set()
_NO_SUCH_VIEW = "NoSuchViewException"


class ViewsUnsupported(Exception):
    """The REST catalog has no view endpoints (internal: becomes one log line)."""


def publish_rest_view(catalog: Any, job: str, table: str) -> bool:
    """Point ``job``'s view at ``table``; False when the catalog has no views (said once)."""
    try:
        _publish(catalog, job, table)
    except ViewsUnsupported as unsupported:
        _say_unsupported(catalog, str(unsupported))
        return False
    return True


def rest_view_table(catalog: Any, job: str) -> str | None:
    """The table ``job``'s view selects from (None: no view, or no view endpoints)."""
    try:
        metadata = _load(catalog, job)
    except ViewsUnsupported:
        return None
    if metadata is None:
        return None
    current = metadata["current-version-id"]
    version = next(v for v in metadata["versions"] if v["version-id"] == current)
    table = version.get("summary", {}).get(TABLE_KEY)
    if table is None:  # a catalog that kept no summary: the Spark SQL names it
        sql = next((r["sql"] for r in version["representations"] if r["dialect"] == "spark"), "")
        table = sql.rpartition(" FROM ")[2].strip("`") or None
    return None if table is None else str(table)


def drop_rest_view(catalog: Any, job: str) -> None:
    response = catalog._session.delete(_view_url(catalog, job))
    if response.status_code not in (200, 204, 404):
        response.raise_for_status()


def _publish(catalog: Any, job: str, table: str) -> None:
    schema = catalog.load_table((DEFAULT_NAMESPACE, table)).schema()
    now_ms = int(time.time() * 1000)
    current = _load(catalog, job)
    if current is None:
        version = view_version(1, 0, table, DEFAULT_NAMESPACE, now_ms, "create")
        body: dict[str, Any] = {
            "name": job,
            "schema": _json(view_schema(schema, 0)),
            "view-version": _json(version),
            "properties": {"created-by": "kappanb"},
        }
        url = catalog.url("namespaces/{namespace}/views", namespace=DEFAULT_NAMESPACE)
        _post(catalog, url, body, job)
        return
    next_id = max(v["version-id"] for v in current["versions"]) + 1
    fields = _json(view_schema(schema, 0))["fields"]
    known = [k["schema-id"] for k in current["schemas"] if k["fields"] == fields]
    # a schema the view knows is named by its id (a catalog may refuse to add it again)
    schema_id = known[0] if known else -1
    if (earlier := _same_version(current, table, schema_id)) is not None:
        # Back to a table served before (a rollback): that version is made current again.
        # Iceberg reuses a version equal to one it has; a catalog that instead adds it
        # again refuses its own metadata ("duplicate version-id 2", SeaweedFS).
        body = {
            "identifier": {"namespace": [DEFAULT_NAMESPACE], "name": job},
            "requirements": [{"type": "assert-view-uuid", "uuid": current["view-uuid"]}],
            "updates": [{"action": "set-current-view-version", "view-version-id": earlier}],
        }  # fmt: skip
        _post(catalog, _view_url(catalog, job), body, job)
        return
    version = view_version(next_id, schema_id, table, DEFAULT_NAMESPACE, now_ms, "replace")
    add_schema = (
        []
        if known
        else [
            {
                "action": "add-schema",
                "schema": _json(view_schema(schema, -1)),
                "last-column-id": schema.highest_field_id,
            }
        ]
    )
    body = {
        "identifier": {"namespace": [DEFAULT_NAMESPACE], "name": job},
        "requirements": [{"type": "assert-view-uuid", "uuid": current["view-uuid"]}],
        "updates": [
            *add_schema,
            {"action": "add-view-version", "view-version": _json(version)},
            {"action": "set-current-view-version", "view-version-id": -1},
        ],
    }  # fmt: skip
    _post(catalog, _view_url(catalog, job), body, job)


def _same_version(current: dict[str, Any], table: str, schema_id: int) -> int | None:
    """The id of a version of the view that already selects from ``table`` with the schema
    ``schema_id`` (-1: a schema the view does not know, so no such version), if any."""
    if schema_id < 0:
        return None
    for version in current["versions"]:
        summary = version.get("summary", {})
        if summary.get(TABLE_KEY) == table and version.get("schema-id") == schema_id:
            return int(version["version-id"])
    return None


def _load(catalog: Any, job: str) -> dict[str, Any] | None:
    """The view's metadata (JSON), or None when the catalog has no such view yet."""
    response = catalog._session.get(_view_url(catalog, job))
    if response.status_code == 200:
        metadata: dict[str, Any] = response.json()["metadata"]
        return metadata
    if response.status_code == 404 and _error_type(response) == _NO_SUCH_VIEW:
        return None
    if response.status_code in (400, 404, 405, 406, 501):  # no such route: no views here
        raise ViewsUnsupported(f"HTTP {response.status_code} on GET {_view_url(catalog, job)}")
    response.raise_for_status()
    return None


def _post(catalog: Any, url: str, body: dict[str, Any], job: str) -> None:
    response = catalog._session.post(url, data=json.dumps(body).encode())
    if response.status_code in (200, 201):
        return
    if response.status_code == 409:
        raise ServingViewConflictError(
            f"{job}'s view changed while kappanb switched it (another writer committed "
            "first): nothing was switched, retry"
        )
    if response.status_code in (405, 501) or (
        response.status_code == 404 and _error_type(response) is None
    ):
        raise ViewsUnsupported(f"HTTP {response.status_code} on POST {url}")
    raise PromoteError(
        f"the REST catalog refused to point {job}'s view at the new table (HTTP "
        f"{response.status_code}: {_error_message(response)}): nothing was switched"
    )


def _view_url(catalog: Any, job: str) -> str:
    return str(
        catalog.url("namespaces/{namespace}/views/{view}", namespace=DEFAULT_NAMESPACE, view=job)
    )


def _error_type(response: Any) -> str | None:
    try:
        return str(response.json()["error"]["type"])
    except (ValueError, KeyError, TypeError):
        return None


def _error_message(response: Any) -> str:
    try:
        return str(response.json()["error"]["message"])[:300]
    except (ValueError, KeyError, TypeError):
        return str(response.text)[:300]


def _json(model: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(model.model_dump_json())
    return loaded


def _say_unsupported(catalog: Any, detail: str) -> None:
    key = str(getattr(catalog, "name", ""))
    if key in _SAID_UNSUPPORTED:
        return
    _SAID_UNSUPPORTED.add(key)
    log.warning(
        "the REST catalog %s has no Iceberg view endpoints (%s): kappanb publishes the "
        "served version as the namespace property kappanb.serving.<job> only; engines "
        "that resolve views cannot follow promote/rollback by the job's name there",
        key,
        detail,
    )
