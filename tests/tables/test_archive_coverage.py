"""What an archive covers after a deletion request (kappanb.tables.archive_coverage): the
offsets a delete took out stay covered, recorded in a table property committed with the
delete, so a replay's handoff never moves back onto forgotten events."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from kappanb.tables.archive_coverage import (
    DELETED_OFFSETS,
    deleted_offsets,
    record_deleted,
    widened,
)
from kappanb.tables.row_delete import delete_rows
from tests.tables.upsert_tables import commit_delta, data_file, new_table


def archived(rows: list[tuple[int, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["kafka_partition", "kafka_offset"], orient="row")


def test_a_delete_records_its_lowest_and_highest_offset_per_partition() -> None:
    first = record_deleted({}, archived([(0, 7), (0, 3), (1, 0)]))
    assert first == {DELETED_OFFSETS: "0:3-7,1:0-0"}
    assert deleted_offsets(first) == {0: (3, 7), 1: (0, 0)}
    later = record_deleted(first, archived([(0, 9), (2, 4)]))  # widened, never narrowed
    assert deleted_offsets(later) == {0: (3, 9), 1: (0, 0), 2: (4, 4)}
    assert record_deleted(first, archived([])) == {}
    assert deleted_offsets({}) == {}


def test_the_coverage_holds_what_was_deleted_at_either_end() -> None:
    rows = {0: (0, 118), 1: (1, 120)}  # partition 0's last and 1's first were forgotten
    deleted = {0: (119, 121), 1: (0, 0), 2: (0, 5)}  # partition 2: every row forgotten
    assert widened(rows, deleted) == {0: (0, 121), 1: (0, 120), 2: (0, 5)}
    assert widened(rows, {}) == rows


def test_the_property_is_committed_with_the_delete(tmp_path: Path) -> None:
    table = new_table(tmp_path)
    table = commit_delta(table, [data_file(table, [("a", 1), ("b", 2), ("a", 3)])], [])  # type: ignore[arg-type]
    commits = len(table.metadata.metadata_log)
    seen: list[list[int]] = []

    def record(properties: object, deleted: pl.DataFrame) -> dict[str, str]:
        seen.append(sorted(deleted["n"].to_list()))
        return {"kappanb.test.deleted": ",".join(map(str, seen[-1]))}

    done = delete_rows(table, pl.col("k") == "a", record=record)
    table = table.refresh()
    assert seen == [[1, 3]] and done.rows == 2
    assert table.properties["kappanb.test.deleted"] == "1,3"
    head = table.current_snapshot()
    assert head is not None and head.snapshot_id == done.snapshot_id
    assert len(table.metadata.metadata_log) == commits + 1  # one commit: snapshot and property

    nothing = delete_rows(table, pl.col("k") == "zz", record=record)
    assert nothing.snapshot_id is None and seen == [[1, 3]]  # no commit, no property
