"""A cluster profile's Iceberg catalog: an Iceberg REST catalog over S3-compatible storage.

One set of properties, in Iceberg's names, serves both clients: pyiceberg's ``RestCatalog``
(its S3 file IO reads ``s3.endpoint``, ``s3.access-key-id``, ``s3.path-style-access``,
``s3.region``) and Flink's Iceberg catalog (``catalog-type`` ``rest``, with
``io-impl`` ``org.apache.iceberg.aws.s3.S3FileIO``, ``client.region``, ``rest.auth.type`` and
``oauth2-server-uri``: the set docs/existing-cluster.md records as checked). Each client
ignores the keys that are the other's.

The credential and the storage keys are `Secret`s: `flink_ddl` carries them for Flink only
(`kappanb.stack.endpoints.Endpoints.redact` takes them out of anything shown), `open`
hands them to pyiceberg.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kappanb.core.secrets import Secret, redact
from kappanb.tables.catalog import DEFAULT_NAMESPACE, ddl_with


@dataclass(frozen=True)
class RestCatalogLocation:
    """An Iceberg REST catalog: its address, warehouse, properties and secrets."""

    name: str
    uri: str
    warehouse: str
    properties: Mapping[str, str] = field(default_factory=dict)
    """Iceberg catalog and FileIO properties (no secret)."""
    secrets: Mapping[str, Secret] = field(default_factory=dict)
    """``credential``, ``s3.access-key-id``, ``s3.secret-access-key``, ``token``..."""

    def __hash__(self) -> int:  # the mappings are not hashable; what they name is
        return hash((self.name, self.uri, self.warehouse))

    def catalog_properties(self) -> dict[str, str]:
        """Every property, secrets revealed: for the clients only."""
        revealed = {k: s.reveal() for k, s in self.secrets.items()}
        return {"uri": self.uri, "warehouse": self.warehouse, **self.properties, **revealed}

    def flink_ddl(self) -> str:
        return ddl_with(self.name, self.flink_properties())

    def flink_properties(self) -> dict[str, str]:
        return {
            "type": "iceberg",
            "catalog-type": "rest",
            "default-database": DEFAULT_NAMESPACE,
            **self.catalog_properties(),
        }

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def open(self) -> Any:
        from pyiceberg.catalog.rest import RestCatalog

        return RestCatalog(self.name, **self.catalog_properties())

    def init(self) -> None:
        self.open().create_namespace_if_not_exists(DEFAULT_NAMESPACE)

    def table_count(self) -> int | None:
        try:
            return len(self.open().list_tables(DEFAULT_NAMESPACE))
        except Exception:  # unreachable, refused, no namespace yet: status says so elsewhere
            return None

    def purge(self, name: str) -> None:
        """Drop with ``purgeRequested`` (the catalog deletes the table's files), then remove
        whatever the catalog left under the table's location through the table's own FileIO."""
        catalog = self.open()
        table = catalog.load_table((DEFAULT_NAMESPACE, name))
        catalog.purge_table((DEFAULT_NAMESPACE, name))
        with contextlib.suppress(Exception):  # a store that refuses plain deletes keeps them
            remove_tree(table.io, table.location())


def remove_tree(io: Any, location: str) -> None:
    """Delete every object under ``location`` with a pyiceberg PyArrowFileIO's file system."""
    from pyarrow import fs  # type: ignore[import-untyped]

    scheme, netloc, path = io.parse_location(location)
    filesystem = io.fs_by_scheme(scheme, netloc)
    if filesystem.get_file_info(path).type != fs.FileType.NotFound:
        filesystem.delete_dir(path)


def table_files(io: Any, location: str) -> list[str]:
    """The objects under a table's location (empty when there are none)."""
    from pyarrow import fs

    scheme, netloc, path = io.parse_location(location)
    filesystem = io.fs_by_scheme(scheme, netloc)
    try:
        listed = filesystem.get_file_info(fs.FileSelector(path, recursive=True))
    except FileNotFoundError:
        return []
    return [f.path for f in listed if f.type == fs.FileType.File]
