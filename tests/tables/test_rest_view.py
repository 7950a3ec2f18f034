"""What kappanb sends a REST catalog's view endpoints at each switch (no I/O: the catalog's
session is scripted and keeps the view's metadata as a catalog would)."""

from __future__ import annotations

import json
from typing import Any

from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField

from kappanb.tables.rest_view import publish_rest_view, rest_view_table

SCHEMA = Schema(NestedField(1, "n", LongType(), required=False))


class Response:
    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        self.status_code = status_code
        self.body = body

    def json(self) -> dict[str, Any]:
        return self.body


class ViewCatalog:
    """One view, kept as its metadata; commits applied as a catalog that, like SeaweedFS,
    refuses a version id twice (it does not reuse an equal version, as Iceberg would)."""

    def __init__(self) -> None:
        self.metadata: dict[str, Any] | None = None
        self.posted: list[dict[str, Any]] = []
        self._session = self

    def url(self, path: str, **names: str) -> str:
        return path.format(**names)

    def load_table(self, identifier: tuple[str, str]) -> Any:
        return type("Table", (), {"schema": staticmethod(lambda: SCHEMA)})()

    def get(self, url: str) -> Response:
        if self.metadata is None:
            return Response(404, {"error": {"type": "NoSuchViewException"}})
        return Response(200, {"metadata": self.metadata})

    def post(self, url: str, data: bytes) -> Response:
        body = json.loads(data)
        self.posted.append(body)
        if "view-version" in body:  # create
            self.metadata = {
                "view-uuid": "u-1", "schemas": [body["schema"]],
                "versions": [body["view-version"]], "current-version-id": 1,
            }  # fmt: skip
            return Response(200, {})
        assert self.metadata is not None
        for update in body["updates"]:
            if update["action"] == "add-schema":
                self.metadata["schemas"].append({**update["schema"], "schema-id": 1})
            elif update["action"] == "add-view-version":
                version = update["view-version"]
                ids = [v["version-id"] for v in self.metadata["versions"]]
                if version["version-id"] in ids:
                    return Response(400, {"error": {"message": "duplicate version-id"}})
                self.metadata["versions"].append(version)
                self.last_added = version["version-id"]
            elif update["action"] == "set-current-view-version":
                wanted = update["view-version-id"]
                self.metadata["current-version-id"] = self.last_added if wanted == -1 else wanted
        return Response(200, {})


def test_a_rollback_makes_the_earlier_version_current_again_instead_of_adding_it() -> None:
    """v1, then v2, then v3, then back to v2 (notebook 04 on the local cluster's REST
    catalog refused that rollback: "duplicate version-id 2")."""
    catalog = ViewCatalog()
    for table in ("counts__v1", "counts__v2", "counts__v3"):
        assert publish_rest_view(catalog, "counts", table)
        assert rest_view_table(catalog, "counts") == table
    assert publish_rest_view(catalog, "counts", "counts__v2")
    assert rest_view_table(catalog, "counts") == "counts__v2"
    assert catalog.metadata is not None and len(catalog.metadata["versions"]) == 3
    assert catalog.posted[-1]["updates"] == [
        {"action": "set-current-view-version", "view-version-id": 2}
    ]
    assert publish_rest_view(catalog, "counts", "counts__v4")  # a new table: a new version
    assert rest_view_table(catalog, "counts") == "counts__v4"
    assert [v["version-id"] for v in catalog.metadata["versions"]] == [1, 2, 3, 4]
