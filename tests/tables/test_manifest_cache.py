"""The manifest cache: bounded, keyed by path and sequence number; on a hand-made upsert
table (no Flink), a read decodes only the manifests committed since the last one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyiceberg.manifest import ManifestFile

from kappanb.tables.manifest_cache import ManifestCache
from kappanb.tables.merge_read import read_snapshot
from tests.tables.upsert_tables import ORACLE, age, commit_delta, data_file, equality_delete
from tests.tables.upsert_tables import new_table as new_upsert_table


def test_entries_are_loaded_once_per_path_and_sequence_number() -> None:
    cache: ManifestCache[str] = ManifestCache()
    loads: list[str] = []

    def load(name: str) -> list[str]:
        loads.append(name)
        return [name]

    assert cache.get(("m1", 1), lambda: load("a")) == ("a",)
    assert cache.get(("m1", 1), lambda: load("b")) == ("a",)
    assert cache.get(("m1", 2), lambda: load("c")) == ("c",)
    assert loads == ["a", "c"]


def test_the_least_recently_used_manifests_go_past_the_bound() -> None:
    cache: ManifestCache[int] = ManifestCache(max_entries=4)
    cache.get(("a", 1), lambda: [1, 2])
    cache.get(("b", 1), lambda: [3])
    cache.get(("a", 1), lambda: [0])  # used: b is now the oldest
    cache.get(("c", 1), lambda: [4, 5])  # 5 entries: b goes
    assert len(cache) == 2
    assert cache.get(("b", 1), lambda: [9]) == (9,)  # loaded again
    assert cache.get(("too big", 1), lambda: [1, 2, 3, 4, 5]) == (1, 2, 3, 4, 5)
    assert len(cache) <= 2  # never kept: larger than the bound
    cache.clear()
    assert len(cache) == 0


def test_a_read_decodes_only_the_manifests_committed_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[str] = []
    real = ManifestFile.fetch_manifest_entry

    def counting(self: ManifestFile, *args: Any, **kwargs: Any) -> Any:
        decoded.append(self.manifest_path)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ManifestFile, "fetch_manifest_entry", counting)
    table = age(new_upsert_table(tmp_path))  # (its commits decode manifests too)
    decoded.clear()
    assert sorted((r["k"], r["n"]) for r in read_snapshot(table).to_pylist()) == ORACLE
    assert len(decoded) == 2  # the head's data and delete manifests
    decoded.clear()
    read_snapshot(table)
    assert decoded == []  # nothing new: nothing decoded

    table = commit_delta(table, [data_file(table, [("a", 9)])], [equality_delete(table, ["a"])])
    decoded.clear()
    rows = sorted((r["k"], r["n"]) for r in read_snapshot(table).to_pylist())
    assert rows == [("a", 9), ("b", 3), ("c", 4)]
    assert len(decoded) == 2  # the new commit's data and delete manifests only
