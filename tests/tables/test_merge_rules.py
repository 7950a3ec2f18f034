"""The Iceberg delete rules of merge_read.merge, on in-memory tables (no stack needed)."""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from kappanb.tables.merge_read import (
    DATA,
    EQUALITY_DELETES,
    POSITION_DELETES,
    FileRef,
    applicable,
    merge,
)

TARGET = pa.schema([("k", pa.large_string()), ("g", pa.large_string()), ("v", pa.int64())])


def data(path: str, seq: int, rows: list[tuple[Any, ...]], part: str | None = None) -> Any:
    columns = list(zip(*rows, strict=True)) if rows else [[], [], []]
    table = pa.table([pa.array(c, t.type) for c, t in zip(columns, TARGET, strict=True)], TARGET)
    return FileRef(path, DATA, seq, part), table


def eq_delete(seq: int, keys: dict[str, list[Any]], part: str | None = None) -> Any:
    table = pa.table({k: pa.array(v, pa.large_string()) for k, v in keys.items()})
    return FileRef(f"eq-{seq}", EQUALITY_DELETES, seq, part, (1,)), table


def pos_delete(seq: int, path: str, positions: list[int]) -> Any:
    table = pa.table(
        {
            "file_path": pa.array([path] * len(positions), pa.large_string()),
            "pos": pa.array(positions, pa.int64()),
        }
    )
    return FileRef(f"pos-{seq}", POSITION_DELETES, seq, None), table


def rows(table: Any) -> list[tuple[Any, ...]]:
    return sorted(zip(*(c.to_pylist() for c in table.columns), strict=True), key=repr)


def test_no_deletes_is_the_concatenation_in_file_order() -> None:
    a = data("a", 1, [("x", "1", 1), ("y", "1", 2)])
    b = data("b", 2, [("x", "1", 3)])
    got = merge([a, b], [], TARGET)
    assert got.schema == TARGET
    assert got.column("v").to_pylist() == [1, 2, 3]


def test_nothing_gives_an_empty_table_with_the_schema() -> None:
    got = merge([data("a", 1, [])], [eq_delete(2, {"k": ["x"]})], TARGET)
    assert got.num_rows == 0
    assert got.schema == TARGET


def test_equality_delete_applies_only_to_strictly_older_data() -> None:
    old = data("a", 1, [("x", "1", 1), ("y", "1", 2)])
    new = data("b", 2, [("x", "1", 10)])
    got = merge([old, new], [eq_delete(2, {"k": ["x"]})], TARGET)
    assert rows(got) == [("x", "1", 10), ("y", "1", 2)]


def test_equality_delete_null_matches_null_on_every_field() -> None:
    old = data("a", 1, [("x", None, 1), ("x", "1", 2), (None, None, 3)])
    deletes = [eq_delete(2, {"k": ["x", None], "g": [None, None]})]
    got = merge([old], deletes, TARGET)
    assert rows(got) == [("x", "1", 2)]


def test_equality_delete_is_scoped_to_its_partition_unless_unpartitioned() -> None:
    p1 = data("a", 1, [("x", "1", 1)], part="0:p1")
    p2 = data("b", 1, [("x", "1", 2)], part="0:p2")
    scoped = merge([p1, p2], [eq_delete(2, {"k": ["x"]}, part="0:p1")], TARGET)
    assert rows(scoped) == [("x", "1", 2)]
    global_ = merge([p1, p2], [eq_delete(2, {"k": ["x"]}, part=None)], TARGET)
    assert global_.num_rows == 0


def test_position_delete_applies_at_lower_or_equal_sequence_numbers() -> None:
    same = data("a", 3, [("x", "1", 1), ("y", "1", 2), ("z", "1", 3)])
    newer = data("b", 5, [("x", "1", 4), ("y", "1", 5)])
    deletes = [pos_delete(3, "a", [0, 2]), pos_delete(3, "b", [0]), pos_delete(4, "gone", [0])]
    got = merge([same, newer], deletes, TARGET)
    assert rows(got) == [("x", "1", 4), ("y", "1", 2), ("y", "1", 5)]


def test_both_kinds_together_keep_one_current_row_per_key() -> None:
    # What Flink's upsert writer leaves: checkpoint 1 inserts x twice (position delete of the
    # first), checkpoint 2 rewrites x (equality delete of the older x).
    first = data("a", 1, [("x", "1", 1), ("x", "1", 2), ("y", "1", 7)])
    second = data("b", 2, [("x", "1", 3)])
    deletes = [pos_delete(1, "a", [0]), eq_delete(1, {"k": ["x"]}), eq_delete(2, {"k": ["x"]})]
    got = merge([first, second], deletes, TARGET)
    assert rows(got) == [("x", "1", 3), ("y", "1", 7)]


def test_a_row_whose_values_each_occur_in_a_delete_but_not_together_stays() -> None:
    old = data("a", 1, [("x", "2", 1), ("y", "1", 2), ("x", "1", 3), ("y", "2", 4)])
    got = merge([old], [eq_delete(2, {"k": ["x", "y"], "g": ["1", "2"]})], TARGET)
    assert rows(got) == [("x", "2", 1), ("y", "1", 2)]


def test_rows_keep_their_file_order_when_deletes_apply() -> None:
    first = data("a", 1, [("x", "1", 1), ("y", "1", 2), ("z", "1", 3)])
    second = data("b", 2, [("y", "1", 4), ("w", "1", 5)])
    got = merge([first, second], [eq_delete(2, {"k": ["y"]}), pos_delete(2, "b", [1])], TARGET)
    assert got.column("v").to_pylist() == [1, 3, 4]


def reference_live(data_files: list[Any], deletes: list[Any]) -> list[int]:
    """The spec's rules, row by row: the ``v`` of every row no delete applies to."""
    live = []
    for ref, table in data_files:
        for pos, row in enumerate(table.to_pylist()):
            deleted = False
            for dref, drows in deletes:
                for d in drows.to_pylist():
                    if dref.content == POSITION_DELETES:
                        hit = d["file_path"] == ref.path and d["pos"] == pos
                        deleted |= hit and dref.sequence_number >= ref.sequence_number
                    else:
                        in_scope = dref.partition in (None, ref.partition)
                        hit = in_scope and all(row[c] == d[c] for c in d)
                        deleted |= hit and dref.sequence_number > ref.sequence_number
            if not deleted:
                live.append(row["v"])
    return sorted(live)


def random_files(seed: int) -> tuple[list[Any], list[Any]]:
    """A few data files and delete files of random sequence numbers, partitions and rows."""
    rng = random.Random(seed)
    keys, groups, parts = ["a", "b", None], ["x", None], ["0:p1", "0:p2"]
    data_files = []
    for i in range(rng.randrange(1, 5)):
        n = rng.randrange(0, 6)
        rows_ = [(rng.choice(keys), rng.choice(groups), 10 * i + j) for j in range(n)]
        data_files.append(data(f"f{i}", rng.randrange(1, 5), rows_, part=rng.choice(parts)))
    deletes = []
    for _ in range(rng.randrange(0, 5)):
        seq = rng.randrange(1, 6)
        if rng.random() < 0.4:
            path = rng.choice([*(ref.path for ref, _ in data_files), "gone"])
            deletes.append(pos_delete(seq, path, rng.sample(range(6), rng.randrange(1, 3))))
        else:
            columns = rng.choice([["k"], ["k", "g"]])
            n = rng.randrange(1, 3)
            values = {
                c: [rng.choice(keys if c == "k" else groups) for _ in range(n)] for c in columns
            }
            deletes.append(eq_delete(seq, values, part=rng.choice([None, *parts])))
    return data_files, deletes


@pytest.mark.parametrize("seed", range(150))
def test_random_files_match_a_row_by_row_reference(seed: int) -> None:
    data_files, deletes = random_files(seed)
    got = merge(data_files, deletes, TARGET)
    assert sorted(got.column("v").to_pylist()) == reference_live(data_files, deletes)


def _applicable(files: list[Any]) -> list[str]:
    return [ref.path for ref in applicable([ref for ref, _ in files])]


def test_an_equality_delete_no_older_than_every_data_file_applies_to_nothing() -> None:
    files = [data("a", 3, []), data("b", 5, []), eq_delete(3, {"k": []}), eq_delete(4, {"k": []})]
    assert _applicable(files) == ["a", "b", "eq-4"]
    assert _applicable([eq_delete(9, {"k": []}), pos_delete(9, "a", [0])]) == []  # no data


def test_a_position_delete_applies_down_to_an_equal_sequence_number() -> None:
    files = [data("a", 3, []), pos_delete(2, "a", [0]), pos_delete(3, "a", [0])]
    assert _applicable(files) == ["a", "pos-3"]


def test_a_partition_scoped_delete_counts_only_its_own_partition() -> None:
    files = [
        data("a", 1, [], part="0:p1"),
        data("b", 5, [], part="0:p2"),
        eq_delete(3, {"k": []}, part="0:p2"),  # p2's only data is newer: dangling
        eq_delete(4, {"k": []}, part="0:p3"),  # p3 has no data: dangling
        eq_delete(2, {"k": []}, part=None),  # global: p1's older data counts
    ]
    assert _applicable(files) == ["a", "b", "eq-2"]


@pytest.mark.parametrize("seed", range(150))
def test_leaving_out_the_deletes_that_apply_to_nothing_changes_no_row(seed: int) -> None:
    data_files, deletes = random_files(seed)
    kept = set(applicable([ref for ref, _ in deletes + data_files]))
    fewer = [(ref, rows) for ref, rows in deletes if ref in kept]
    got = merge(data_files, fewer, TARGET)
    assert sorted(got.column("v").to_pylist()) == reference_live(data_files, deletes)
