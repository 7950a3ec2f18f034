"""Comparing two versions' outputs: constructed frames with known differences."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from kappanb.compare import diff_frames, diff_outputs, split_finalised, time_key
from kappanb.exceptions import CompareError


def day(n: int) -> date:
    return date(2026, 3, n)


def ms(year: int, month: int, d: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch milliseconds of a UTC time."""
    return int(datetime(year, month, d, hour, minute, tzinfo=UTC).timestamp() * 1000)


def daily(days: list[int], totals: list[int | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {"day": [day(d) for d in days], "total": totals},
        schema={"day": pl.Date, "total": pl.Int64},
    )


# ---- rows only in one version, changed and identical ------------------------------------


def test_only_old_only_new_changed_and_identical_rows() -> None:
    old = daily([1, 2, 3, 4], [10, 20, 30, 40])
    new = daily([2, 3, 4, 5], [20, 33, 40, 50])
    diff = diff_frames(old, new, ["day"], old_label="v1", new_label="v2")

    assert diff.only_old.to_dicts() == [{"day": day(1), "total": 10}]
    assert diff.only_new.to_dicts() == [{"day": day(5), "total": 50}]
    assert diff.changed.to_dicts() == [
        {"day": day(3), "total_old": 30, "total_new": 33, "total_delta": 3,
         "changed_columns": ["total"]},
    ]  # fmt: skip
    assert diff.same_count == 2
    assert diff.same["day"].to_list() == [day(2), day(4)]
    assert diff.key == ("day",)
    assert diff.value_columns == ("total",)
    assert diff.numeric_columns == ("total",)
    assert not diff.identical


def test_identical_outputs() -> None:
    old = daily([1, 2, 3], [10, 20, 30])
    diff = diff_frames(old, old.reverse(), ["day"], old_label="v1", new_label="v2")
    assert diff.identical
    assert diff.same_count == 3
    assert diff.changed.is_empty() and diff.only_old.is_empty() and diff.only_new.is_empty()
    assert diff.summary() == "identical: 3 rows"
    assert diff.pending_keys == 0
    assert diff.pending_old.columns == ["day", "total"] and diff.pending_old.is_empty()


def test_changed_has_old_new_delta_per_value_column_and_names_what_differs() -> None:
    old = pl.DataFrame({"k": [1, 2], "n": [1, 2], "name": ["a", "b"], "ok": [True, True]})
    new = pl.DataFrame({"k": [1, 2], "n": [1, 5], "name": ["x", "b"], "ok": [True, False]})
    diff = diff_frames(old, new, ["k"])
    assert diff.changed.columns == [
        "k", "n_old", "n_new", "n_delta", "name_old", "name_new", "ok_old", "ok_new",
        "changed_columns",
    ]  # fmt: skip
    rows = {r["k"]: r for r in diff.changed.to_dicts()}
    assert rows[1]["changed_columns"] == ["name"]
    assert rows[1]["n_delta"] == 0
    assert rows[2]["changed_columns"] == ["n", "ok"]
    assert rows[2]["n_delta"] == 3
    assert diff.numeric_columns == ("n",)  # booleans and strings compare exactly, no delta


# ---- equality rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_value", "differs"),
    [
        (100.01, False),  # |Δ| = 0.01: within (float rounding of 100.01 - 100.0 allowed)
        (99.99, False),
        (100.0100001, True),  # just outside
        (100.02, True),
    ],
)
def test_float_tolerance_just_inside_and_just_outside(new_value: float, differs: bool) -> None:
    old = pl.DataFrame({"k": ["a"], "amount": [100.0]})
    new = pl.DataFrame({"k": ["a"], "amount": [new_value]})
    diff = diff_frames(old, new, ["k"], tolerance=0.01)
    assert diff.changed.height == (1 if differs else 0)
    assert diff.same_count == (0 if differs else 1)


def test_without_tolerance_numbers_compare_exactly() -> None:
    old = pl.DataFrame({"k": ["a", "b"], "amount": [100.0, 7.0]})
    new = pl.DataFrame({"k": ["a", "b"], "amount": [100.0 + 1e-12, 7.0]})
    diff = diff_frames(old, new, ["k"])
    assert diff.changed["k"].to_list() == ["a"]


def test_integer_tolerance() -> None:
    old = pl.DataFrame({"k": [1, 2], "n": [10, 10]})
    new = pl.DataFrame({"k": [1, 2], "n": [12, 13]})
    diff = diff_frames(old, new, ["k"], tolerance=2)
    assert diff.changed["k"].to_list() == [2]
    assert diff.changed["n_delta"].to_list() == [3]


def test_negative_tolerance_is_refused() -> None:
    frame = daily([1], [1])
    with pytest.raises(CompareError, match="tolerance must be 0 or more"):
        diff_frames(frame, frame, ["day"], tolerance=-0.1)
    with pytest.raises(CompareError, match="tolerance"):
        diff_frames(frame, frame, ["day"], tolerance=float("nan"))


def test_nulls_null_and_null_is_same_null_and_value_is_a_change() -> None:
    old = pl.DataFrame({"k": [1, 2, 3, 4], "n": [None, None, 5, None], "s": ["a", None, "c", None]})
    new = pl.DataFrame({"k": [1, 2, 3, 4], "n": [None, 7, None, None], "s": ["a", None, "c", "d"]})
    diff = diff_frames(old, new, ["k"], tolerance=1.0)
    assert diff.same_count == 1
    rows = {r["k"]: r for r in diff.changed.to_dicts()}
    assert set(rows) == {2, 3, 4}
    assert rows[2]["changed_columns"] == ["n"] and rows[2]["n_delta"] is None
    assert rows[3]["changed_columns"] == ["n"] and rows[3]["n_delta"] is None
    assert rows[4]["changed_columns"] == ["s"]


def test_nan_and_nan_is_same_nan_and_number_is_a_change() -> None:
    nan = float("nan")
    old = pl.DataFrame({"k": [1, 2, 3], "x": [nan, nan, 1.0]})
    new = pl.DataFrame({"k": [1, 2, 3], "x": [nan, 1.0, 1.0]})
    for tolerance in (0.0, 0.5):
        diff = diff_frames(old, new, ["k"], tolerance=tolerance)
        assert diff.changed["k"].to_list() == [2]
        assert diff.same_count == 2


def test_nan_delta_is_left_out_of_the_max() -> None:
    old = pl.DataFrame({"k": [1, 2], "x": [float("nan"), 1.0]})
    new = pl.DataFrame({"k": [1, 2], "x": [1.0, 3.5]})
    diff = diff_frames(old, new, ["k"], old_label="v1", new_label="v2")
    assert diff.max_delta() == ("x", 2.5, (2,))
    assert diff.summary().startswith("2 keys differ, max |Δ| 2.5 on 2;")


# ---- keys ---------------------------------------------------------------------------------


def test_key_of_two_columns() -> None:
    old = pl.DataFrame({"region": ["EU", "EU", "US"], "day": [day(1), day(2), day(1)],
                        "n": [1, 2, 3]})  # fmt: skip
    new = pl.DataFrame({"region": ["EU", "US", "US"], "day": [day(2), day(1), day(2)],
                        "n": [2, 4, 5]})  # fmt: skip
    diff = diff_frames(old, new, ["region", "day"], old_label="v1", new_label="v2")
    assert diff.only_old.select("region", "day").rows() == [("EU", day(1))]
    assert diff.only_new.select("region", "day").rows() == [("US", day(2))]
    assert diff.changed.select("region", "day", "n_delta").rows() == [("US", day(1), 1)]
    assert diff.same_count == 1
    assert diff.summary() == (
        "1 key differs, max |Δ| 1 on (US, 2026-03-01); 1 only in v1, 1 only in v2; 1 identical"
    )


def test_null_key_values_match_each_other() -> None:
    old = pl.DataFrame({"k": [None, "a"], "n": [1, 2]})
    new = pl.DataFrame({"k": [None, "a"], "n": [1, 3]})
    diff = diff_frames(old, new, ["k"])
    assert diff.same_count == 1
    assert diff.changed["k"].to_list() == ["a"]


def test_duplicate_keys_are_refused_with_count_and_example() -> None:
    old = daily([1, 1, 2, 3, 3, 3], [1, 2, 3, 4, 5, 6])
    new = daily([1, 2, 3], [1, 2, 3])
    with pytest.raises(CompareError) as caught:
        diff_frames(old, new, ["day"], old_label="v1", new_label="v2")
    message = str(caught.value)
    assert "v1 has 2 duplicate keys on day" in message
    assert "day=2026-03-01 is in 2 rows" in message
    assert "--key" in message
    with pytest.raises(CompareError, match="v2 has 1 duplicate key on day"):
        diff_frames(new, daily([1, 2, 2], [1, 2, 3]), ["day"], old_label="v1", new_label="v2")


def test_missing_key_column_is_refused() -> None:
    old = daily([1], [1])
    new = daily([1], [1]).rename({"day": "d"})
    with pytest.raises(CompareError, match=r"key column day not in v2 .*give --key COLS"):
        diff_frames(old, new, ["day"], old_label="v1", new_label="v2")
    with pytest.raises(CompareError, match="key columns nope, nada not in v1"):
        diff_frames(old, old, ["nope", "nada"], old_label="v1")


def test_empty_key_is_refused() -> None:
    frame = daily([1], [1])
    with pytest.raises(CompareError, match="no key to match rows by: give --key COLS"):
        diff_frames(frame, frame, [])


def test_a_single_key_string_is_one_column() -> None:
    frame = daily([1, 2], [1, 2])
    assert diff_frames(frame, frame, "day").key == ("day",)


# ---- columns and types -------------------------------------------------------------------


def test_columns_only_in_one_version_are_listed_and_not_compared() -> None:
    old = pl.DataFrame({"k": [1, 2], "n": [1, 2], "legacy": ["x", "y"]})
    new = pl.DataFrame({"k": [1, 2], "n": [1, 2], "fee": [0.5, 0.7]})
    diff = diff_frames(old, new, ["k"], old_label="v1", new_label="v2")
    assert diff.columns_only_old == ("legacy",)
    assert diff.columns_only_new == ("fee",)
    assert diff.value_columns == ("n",)
    assert diff.identical
    assert "columns only in v1: legacy (not compared)" in str(diff)
    assert "columns only in v2: fee (not compared)" in str(diff)


def test_int64_against_float64_is_compared_as_float() -> None:
    old = pl.DataFrame({"k": [1, 2], "n": [10, 20]}, schema={"k": pl.Int64, "n": pl.Int64})
    new = pl.DataFrame({"k": [1, 2], "n": [10.0, 20.5]}, schema={"k": pl.Int32, "n": pl.Float64})
    diff = diff_frames(old, new, ["k"])
    assert diff.changed.schema["n_old"] == pl.Float64
    assert diff.changed.select("k", "n_old", "n_new", "n_delta").rows() == [(2, 20.0, 20.5, 0.5)]
    assert diff.same_count == 1


def test_incompatible_types_are_refused() -> None:
    old = pl.DataFrame({"k": [1], "n": [1]})
    new = pl.DataFrame({"k": [1], "n": ["1"]})
    with pytest.raises(CompareError, match="column 'n' is Int64 in v1 but String in v2"):
        diff_frames(old, new, ["k"], old_label="v1", new_label="v2")


def test_generated_names_that_clash_are_refused() -> None:
    frame = pl.DataFrame({"n_old": [1], "n": [1]})  # the key and n's old values
    with pytest.raises(CompareError, match=r"would clash \(n_old\)"):
        diff_frames(frame, frame, ["n_old"])


# ---- what is final at a watermark --------------------------------------------------------


def test_time_key_is_the_first_date_or_timestamp_key_column() -> None:
    frame = pl.DataFrame({"region": ["EU"], "day": [day(1)], "at": [datetime(2026, 3, 1)]})
    assert time_key(frame, ["region", "day", "at"]) == "day"
    assert time_key(frame, ["at", "day"]) == "at"
    assert time_key(frame, ["region"]) is None


def test_split_finalised_date_key_at_a_watermark_mid_day() -> None:
    frame = daily([1, 2, 3, 4], [1, 2, 3, 4])
    final, pending = split_finalised(frame, "day", ms(2026, 3, 3, 12))
    assert final["day"].to_list() == [day(1), day(2)]
    assert pending["day"].to_list() == [day(3), day(4)]
    # the end of day 3 exactly finalises it
    final, pending = split_finalised(frame, "day", ms(2026, 3, 4))
    assert final["day"].to_list() == [day(1), day(2), day(3)]


def test_split_finalised_window_end() -> None:
    ends = [datetime(2026, 3, 1, h) for h in (1, 2, 3)]
    frame = pl.DataFrame({"window_end": ends, "n": [1, 2, 3]})
    final, pending = split_finalised(frame, "window_end", ms(2026, 3, 1, 2))
    assert final["n"].to_list() == [1, 2]  # a window ending at the watermark is final
    assert pending["n"].to_list() == [3]


def test_split_finalised_window_start_waits_for_the_largest_gap() -> None:
    starts = [datetime(2026, 3, 1, h) for h in (0, 1, 2)]
    frame = pl.DataFrame({"window_start": starts, "n": [1, 2, 3]})
    final, pending = split_finalised(frame, "window_start", ms(2026, 3, 1, 2, 30))
    assert final["n"].to_list() == [1, 2]  # [02:00, 03:00) is still open
    assert pending["n"].to_list() == [3]
    single = frame.head(1)
    assert split_finalised(single, "window_start", ms(2026, 3, 1))[0].height == 1


def test_split_finalised_unknown_watermark_and_end_of_input() -> None:
    frame = daily([1, 2], [1, 2])
    final, pending = split_finalised(frame, "day", None)
    assert final.height == 2 and pending.is_empty()
    final, pending = split_finalised(frame, "day", 2**63 - 1)
    assert final.height == 2 and pending.is_empty()
    final, pending = split_finalised(frame, "day", -(2**63))
    assert final.is_empty() and pending.height == 2


def test_split_finalised_refuses_a_non_time_column() -> None:
    with pytest.raises(CompareError, match="not a DATE or TIMESTAMP"):
        split_finalised(daily([1], [1]), "total", 0)
    with pytest.raises(CompareError, match="no column 'nope'"):
        split_finalised(daily([1], [1]), "nope", 0)


# ---- diff_outputs: pending keys are not compared ------------------------------------------


def test_diff_outputs_leaves_out_keys_pending_in_one_version_and_reports_them() -> None:
    old = daily([1, 2, 3], [10, 20, 30])  # v1, live: finalised up to the end of day 3
    new = daily([1, 2, 3], [10, 25, 7])  # v2, replay: watermark in day 3, which is partial
    diff = diff_outputs(
        old, new, ["day"],
        old_watermark_ms=ms(2026, 3, 4, 1), new_watermark_ms=ms(2026, 3, 3, 12),
        old_label="v1", new_label="v2", job="daily",
    )  # fmt: skip
    assert diff.changed["day"].to_list() == [day(2)]  # day 3 is not reported as changed
    assert diff.same_count == 1
    assert diff.pending_old.is_empty()
    assert diff.pending_new.to_dicts() == [{"day": day(3), "total": 7}]
    assert diff.pending_keys == 1
    assert diff.summary() == (
        "1 key differs, max |Δ| 5 on 2026-03-02; 0 only in v1, 0 only in v2; 1 identical; "
        "1 key not compared (v2 has not finalised it yet)"
    )
    assert "not compared" in diff._repr_html_()


def test_diff_outputs_pending_in_both_versions() -> None:
    old = daily([1, 2, 3], [10, 20, 30])
    new = daily([1, 2, 3, 4], [10, 20, 31, 40])
    diff = diff_outputs(
        old, new, ["day"], old_watermark_ms=ms(2026, 3, 3, 6),
        new_watermark_ms=ms(2026, 3, 2, 6), old_label="v1", new_label="v2",
    )  # fmt: skip
    assert diff.identical and diff.same_count == 1
    assert diff.pending_keys == 3
    assert diff.summary() == (
        # v1 has finalised neither day 3 (its own row) nor day 4 (which it may still write)
        "identical: 1 row; 3 keys not compared (not finalised yet: 2 in v1, 3 in v2)"
    )


def test_diff_outputs_a_window_only_the_finished_version_has_is_pending_in_the_live_one() -> None:
    """Append-only hourly windows: the live v1 has not closed 02:00-03:00 yet (watermark
    02:59:30), the bounded v2 closed every window at the end of its input."""
    hours = [datetime(2026, 3, 1, h) for h in range(3)]
    old = pl.DataFrame({"window_start": hours[:2], "n": [5, 6]})
    new = pl.DataFrame({"window_start": hours, "n": [5, 6, 7]})
    live_watermark = ms(2026, 3, 1, 2) + 59 * 60_000 + 30_000
    diff = diff_outputs(
        old, new, ["window_start"], old_watermark_ms=live_watermark, new_watermark_ms=None,
        old_label="v1", new_label="v2",
    )  # fmt: skip
    assert diff.only_new.is_empty() and diff.same_count == 2
    assert diff.pending_new.to_dicts() == [{"window_start": hours[2], "n": 7}]
    later = diff_outputs(
        old, new, ["window_start"], old_watermark_ms=ms(2026, 3, 1, 4), new_watermark_ms=None
    )  # v1 has passed the window and still lacks it: that is a real difference
    assert later.only_new.to_dicts() == [{"window_start": hours[2], "n": 7}]
    assert later.pending_keys == 0


def test_diff_outputs_without_time_key_or_watermark_is_diff_frames() -> None:
    old = pl.DataFrame({"k": [1, 2], "n": [1, 2]})
    new = pl.DataFrame({"k": [1, 2], "n": [1, 3]})
    diff = diff_outputs(old, new, ["k"], old_watermark_ms=0, new_watermark_ms=0)
    assert diff.changed["k"].to_list() == [2] and diff.pending_keys == 0
    frame = daily([1, 2], [1, 2])
    assert diff_outputs(frame, frame, ["day"]).same_count == 2


def test_diff_outputs_refuses_duplicates_among_pending_rows_too() -> None:
    old = daily([1, 3, 3], [1, 2, 3])
    with pytest.raises(CompareError, match="duplicate"):
        diff_outputs(old, daily([1], [1]), ["day"], old_watermark_ms=ms(2026, 3, 2))
