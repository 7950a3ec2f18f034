"""DuckDB as a third-party reader of kappanb's Iceberg tables: ``iceberg_scan`` of a
table's current metadata file, with the avro and iceberg extensions loaded from their
wheels (the dev extra pins them to the DuckDB release; nothing is downloaded here)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import duckdb

_EXTENSIONS = ("duckdb_extension_avro", "duckdb_extension_iceberg")  # avro first: iceberg needs it


def _extension_file(module: str) -> Path:
    package = Path(importlib.import_module(module).__file__ or "").parent
    return next(package.rglob("*.duckdb_extension"))


def duckdb_rows(table: Any, columns: list[str]) -> list[tuple[Any, ...]]:
    """The rows of ``table``'s current snapshot (a pyiceberg table on a file:// warehouse)
    as DuckDB's ``iceberg_scan`` reads them, sorted."""
    metadata = unquote(urlparse(table.metadata_location).path)
    with duckdb.connect() as db:
        for module in _EXTENSIONS:
            db.execute(f"LOAD '{_extension_file(module)}'")
        selected = ", ".join(f'"{c}"' for c in columns)
        rows = db.execute(f"SELECT {selected} FROM iceberg_scan('{metadata}')").fetchall()
    return sorted(rows)
