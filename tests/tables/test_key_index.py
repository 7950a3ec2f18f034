"""Key indexes of data files (`kappanb.tables.key_index`) and merge through them (no stack
needed): the same rows as the row-by-row reference, whether an index is built for the
call, kept from an earlier read, or not used (small files)."""

from __future__ import annotations

import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from kappanb.tables import key_index
from kappanb.tables.key_index import KeyIndexes, build, candidates, hashes
from kappanb.tables.merge_read import merge
from tests.tables.test_merge_rules import TARGET, data, eq_delete, random_files, reference_live


def test_candidates_are_the_rows_of_a_deleted_key_nulls_included() -> None:
    rows = pa.table({"k": pa.array(["a", None, "b", "a", "c"], pa.large_string())})
    wanted = hashes(pa.table({"k": pa.array(["a", None, "z"], pa.large_string())}), ["k"])
    assert sorted(candidates(build(rows, ["k"]), wanted).to_list()) == [0, 1, 3]


def test_few_keys_against_a_big_file_are_looked_up_and_many_probed_alike() -> None:
    keys = [f"k{i % 50}" for i in range(200)] + [None] * 3  # each key 4 times, nulls
    rows = pa.table({"k": pa.array(keys, pa.large_string())})
    index = build(rows, ["k"])
    few = hashes(pa.table({"k": pa.array(["k7", None, "nope"], pa.large_string())}), ["k"])
    want = [i for i, k in enumerate(keys) if k in ("k7", None)]
    assert sorted(candidates(index, few).to_list()) == want  # binary searches
    many = [f"k{i}" for i in range(0, 50, 2)]
    wanted = hashes(pa.table({"k": pa.array(many, pa.large_string())}), ["k"])
    assert sorted(candidates(index, wanted).to_list()) == [
        i for i, k in enumerate(keys) if k in many
    ]  # one probe of every row


def test_an_index_is_kept_per_file_and_key_columns_within_a_row_budget() -> None:
    indexes = KeyIndexes(max_rows=5)
    three = pa.table({"k": pa.array(["a", "b", "c"]), "g": pa.array(["x", "y", "z"])})
    first = indexes.index("f1", three, ["k"])
    assert indexes.index("f1", three, ["k"]) is first and len(indexes) == 1
    indexes.index("f1", three, ["k", "g"])  # another key set: another index; over budget
    assert len(indexes) == 1 and indexes.index("f1", three, ["k"]) is not first


@pytest.mark.parametrize("seed", range(150))
def test_merge_through_kept_indexes_matches_the_reference(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(key_index, "MIN_ROWS", 0)  # every file through its index
    data_files, deletes = random_files(seed)
    indexes = KeyIndexes()
    for _ in range(2):  # built, then kept
        got = merge(data_files, deletes, TARGET, indexes)
        assert sorted(got.column("v").to_pylist()) == reference_live(data_files, deletes)


def test_a_big_file_and_small_ones_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(key_index, "MIN_ROWS", 3)
    big = data("big", 1, [("a", "1", 1), ("b", "1", 2), ("c", "1", 3), (None, "1", 4)])
    small = data("small", 2, [("b", "1", 5)])
    deletes = [eq_delete(2, {"k": ["b", None]}), eq_delete(3, {"k": ["b"]})]
    got = merge([big, small], deletes, TARGET, KeyIndexes())
    assert got.column("v").to_pylist() == [1, 3]
