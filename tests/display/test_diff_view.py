"""How a comparison reads: the summary line, the text tables and the notebook's HTML."""

from __future__ import annotations

import polars as pl

from kappanb.compare import Diff, diff_frames
from tests.compare.test_diff import daily, day


def small_diff() -> Diff:
    old = pl.DataFrame({
        "day": [day(1), day(2), day(3), day(4), day(5)],
        "total": [10, 20, 30, 40, 50],
        "merchants": [1, 2, 3, 4, 5],
    })  # fmt: skip
    new = pl.DataFrame({
        "day": [day(2), day(3), day(4), day(5)],
        "total": [20, 31, 81, 50],
        "merchants": [2, 3, 4, 5],
    })  # fmt: skip
    return diff_frames(old, new, ["day"], old_label="v1", new_label="v2", job="daily")


def test_summary_text() -> None:
    assert small_diff().summary() == (
        "2 keys differ, max |Δ total| 41 on 2026-03-04; 1 only in v1, 0 only in v2; 2 identical"
    )
    old = daily([1, 2], [10, 20])
    new = daily([1, 2], [10, 4_231])
    assert diff_frames(old, new, ["day"]).summary() == (
        "1 key differs, max |Δ| 4,211 on 2026-03-02; 0 only in old, 0 only in new; 1 identical"
    )


def test_summary_counts_use_thousands_separators() -> None:
    frame = pl.DataFrame({"k": range(4_211), "n": [1] * 4_211})
    assert diff_frames(frame, frame, ["k"]).summary() == "identical: 4,211 rows"


def test_summary_without_numeric_columns_has_no_max() -> None:
    old = pl.DataFrame({"k": [1], "s": ["a"]})
    new = pl.DataFrame({"k": [1], "s": ["b"]})
    assert diff_frames(old, new, ["k"]).summary() == (
        "1 key differs; 0 only in old, 0 only in new; 0 identical"
    )


def test_str_has_summary_and_sections() -> None:
    text = str(small_diff())
    lines = text.splitlines()
    assert lines[0] == "daily v1 → v2: " + small_diff().summary()
    assert "only in v1 (1 row):" in lines
    assert "changed (2 keys):" in lines
    assert "only in v2" not in text.split("\n", 1)[1]  # empty sections are left out
    changed = lines[lines.index("changed (2 keys):") + 1 :]
    assert changed[0].split() == ["day", "total", "Δ", "total", "merchants", "Δ", "merchants"]
    assert changed[2].split() == ["2026-03-04", "40", "→", "81", "+41", "4"]


def test_str_shows_at_most_20_rows_per_section() -> None:
    old = pl.DataFrame({"k": range(25), "n": [1] * 25})
    new = pl.DataFrame({"k": range(25), "n": [2] * 25})
    text = str(diff_frames(old, new, ["k"]))
    assert "changed (25 keys):" in text
    assert "… and 5 more" in text
    assert "\n19 " in text and "\n20 " not in text


def test_repr_html_has_summary_sections_and_counts() -> None:
    html = small_diff()._repr_html_()
    assert "<b>daily v1 → v2: 2 keys differ" in html
    assert "<b>only in v1</b> (1 row)" in html
    assert "<b>changed</b> (2 keys)" in html
    assert "only in v2</b>" not in html
    assert "40 → 81" in html
    assert "+41" in html
    assert "<th" in html and ">identical<" in html
    assert "display:flex" in html  # the sections side by side
    assert '<img alt="the metric over the key" src="data:image/png;base64,' in html


def test_repr_html_limits_sections_to_50_rows() -> None:
    old = pl.DataFrame({"k": range(60), "n": [1] * 60})
    new = pl.DataFrame({"k": range(60), "n": [2] * 60})
    html = diff_frames(old, new, ["k"])._repr_html_()
    assert "… and 10 more" in html
    assert html.count("<tr>") == 1 + 1 + 1 + 50  # counts (head, row), changed head, 50 rows


def test_repr_html_escapes_values() -> None:
    old = pl.DataFrame({"k": ["<a>"], "s": ["<b>"]})
    new = pl.DataFrame({"k": ["<a>"], "s": ["<i>"]})
    html = diff_frames(old, new, ["k"])._repr_html_()
    assert "<i>" not in html.replace("<i>…", "")
    assert "&lt;b&gt; → &lt;i&gt;" in html


def test_repr_html_draws_a_picture_of_at_most_60_labelled_keys() -> None:
    def picture(keys: int) -> bool:
        old = pl.DataFrame({"merchant": [f"m{i:03d}" for i in range(keys)], "n": [1] * keys})
        html = diff_frames(old, old.with_columns(pl.col("n") + 1), ["merchant"])._repr_html_()
        return "data:image/png;base64," in html

    assert picture(60) and not picture(61)  # chart() still draws any number on demand


def test_repr_html_says_when_a_version_has_no_watermark() -> None:
    from dataclasses import replace

    from kappanb.compare.finalised import diff_outputs

    old = daily([1, 2], [10, 20])
    new = daily([1, 2], [10, 21])
    behind = diff_outputs(old, new, ["day"], old_watermark_ms=-1, new_watermark_ms=-1,
                          old_label="v1", new_label="v2")  # fmt: skip
    assert behind.pending_keys == 2 and behind.changed.is_empty()
    assert "watermark is behind their event time" in behind._repr_html_()
    restored = replace(behind, without_watermark=("v1", "v2"))
    html = restored._repr_html_()
    assert "v1 and v2 have no watermark yet (restarted from a checkpoint" in html
    assert "behind their event time" not in html
