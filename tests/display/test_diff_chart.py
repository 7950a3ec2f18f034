"""The comparison chart as data: layers, encodings and fields of the Vega-Lite spec."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
import pytest

from kappanb.compare import Diff, diff_frames
from kappanb.display.diff_chart import diff_chart
from kappanb.exceptions import CompareError


def day(n: int) -> date:
    return date(2026, 3, n)


def by_day() -> Diff:
    old = pl.DataFrame({"day": [day(1), day(2), day(3)], "total": [10, 20, 30], "n": [1, 1, 1]})
    new = pl.DataFrame({"day": [day(2), day(3), day(4)], "total": [20, 35, 40], "n": [1, 2, 1]})
    return diff_frames(old, new, ["day"], old_label="v1", new_label="v2", job="daily")


def by_region_and_day() -> Diff:
    old = pl.DataFrame({"region": ["EU", "EU", "US"], "day": [day(1), day(2), day(1)],
                        "total": [1.0, 2.0, 3.0]})  # fmt: skip
    new = pl.DataFrame({"region": ["EU", "EU", "US"], "day": [day(1), day(2), day(1)],
                        "total": [1.0, 2.5, 3.0]})  # fmt: skip
    return diff_frames(old, new, ["region", "day"], old_label="v1", new_label="v2")


def values(spec: dict[str, Any], layer: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = spec["datasets"][layer["data"]["name"]]
    return rows


def test_single_date_key_layers_and_encodings() -> None:
    spec = diff_chart(by_day(), "total").to_dict()
    assert spec["title"] == "daily: total, v1 vs v2"
    layers = spec["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["line", "point", "rule", "point"]

    line = layers[0]["encoding"]
    assert line["x"] == {
        "field": "key", "type": "temporal", "title": "day", "axis": {"format": "%Y-%m-%d"},
    }  # fmt: skip
    assert (line["y"]["field"], line["y"]["type"], line["y"]["title"]) == (
        "value", "quantitative", "total",
    )  # fmt: skip
    assert (line["color"]["field"], line["color"]["scale"]["domain"]) == ("version", ["v1", "v2"])

    rows = values(spec, layers[0])
    assert [(r["version"], r["value"], r["status"]) for r in rows] == [
        ("v1", 10.0, "only in v1"),
        ("v1", 20.0, "same"), ("v2", 20.0, "same"),
        ("v1", 30.0, "changed"), ("v2", 35.0, "changed"),
        ("v2", 40.0, "only in v2"),
    ]  # fmt: skip
    assert rows[0]["key"].startswith("2026-03-01")


def test_changed_keys_are_red_rules_and_only_in_one_version_are_diamonds() -> None:
    spec = diff_chart(by_day(), "total").to_dict()
    rule, only = spec["layer"][2], spec["layer"][3]
    assert rule["mark"]["color"] == "red"
    assert rule["encoding"]["x"]["field"] == "key"
    assert "y" not in rule["encoding"]
    assert [(r["old"], r["new"], r["delta"], r["columns"]) for r in values(spec, rule)] == [
        (30.0, 35.0, 5.0, "total, n"),
    ]
    assert only["mark"]["shape"] == "diamond"
    assert [(r["version"], r["status"]) for r in values(spec, only)] == [
        ("v1", "only in v1"), ("v2", "only in v2"),
    ]  # fmt: skip


def test_two_column_key_is_one_nominal_label() -> None:
    spec = by_region_and_day().chart().to_dict()
    layers = spec["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["line", "point", "rule"]  # no only-in
    assert layers[0]["encoding"]["x"] == {"field": "key", "type": "nominal", "title": "region, day"}
    keys = sorted({r["key"] for r in values(spec, layers[0])})
    assert keys == ["EU / 2026-03-01", "EU / 2026-03-02", "US / 2026-03-01"]
    assert [r["key"] for r in values(spec, layers[2])] == ["EU / 2026-03-02"]


def test_timestamp_key_is_temporal_and_a_number_key_nominal() -> None:
    at = [datetime(2026, 3, 1, h) for h in (0, 1)]
    frame = pl.DataFrame({"window_start": at, "merchant": [7, 8], "n": [1, 2]})
    spec = diff_frames(frame, frame, ["window_start"]).chart().to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["line", "point"]
    x = spec["layer"][0]["encoding"]["x"]
    assert (x["type"], x["axis"]["format"]) == ("temporal", "%Y-%m-%d %H:%M")
    spec = diff_frames(frame, frame, ["merchant"]).chart().to_dict()
    assert spec["layer"][0]["encoding"]["x"]["type"] == "nominal"


def test_column_chooses_the_value_and_must_be_numeric() -> None:
    spec = by_day().chart(column="n").to_dict()
    assert spec["layer"][0]["encoding"]["y"]["title"] == "n"
    with pytest.raises(CompareError, match="cannot chart 'nope'"):
        by_day().chart(column="nope")
    words = pl.DataFrame({"k": [1], "s": ["a"]})
    with pytest.raises(CompareError, match="no numeric column to chart"):
        diff_frames(words, words, ["k"]).chart()


def test_nan_and_null_values_are_gaps_not_invalid_json() -> None:
    old = pl.DataFrame({"k": [1, 2], "x": [float("nan"), None]})
    new = pl.DataFrame({"k": [1, 2], "x": [1.0, 2.0]})
    spec = diff_chart(diff_frames(old, new, ["k"])).to_dict()
    assert [r["value"] for r in values(spec, spec["layer"][0])] == [None, 1.0, None, 2.0]


def test_by_default_the_chart_shows_the_column_that_changed_most_with_rules_where_it_did() -> None:
    old = pl.DataFrame({"day": [day(1), day(2), day(3)], "payments": [5, 5, 5],
                        "amount": [100, 200, 300]})  # fmt: skip
    new = pl.DataFrame({"day": [day(1), day(2), day(3)], "payments": [5, 5, 6],
                        "amount": [150, 260, 390]})  # fmt: skip
    diff = diff_frames(old, new, ["day"], old_label="v1", new_label="v2")
    spec = diff_chart(diff).to_dict()
    assert spec["title"] == "amount, v1 vs v2"  # changed on three days; payments on one
    rules = diff_chart(diff, "payments").to_dict()
    rule = rules["layer"][2]
    assert rule["mark"]["type"] == "rule"
    assert [r["old"] for r in values(rules, rule)] == [5.0]  # only where payments changed
