"""Chart builders as data: the Vega-Lite spec has the expected fields, encodings and layers."""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from kappanb.display.charts import (
    EVENT_TIME_LABELS,
    behind_chart,
    catch_up_chart,
    panel_chart,
    throughput_chart,
)


def samples(versions: list[str], head: bool = False) -> pl.DataFrame:
    rows = []
    for version in versions:
        for i in range(5):
            row: dict[str, Any] = {
                "version": version,
                "at": 1_790_000_000.0 + i,
                "records_in_per_s": 1000.0 * (i + 1),
                "behind": 5000 - 1000 * i,
                "watermark_ms": 1_772_000_000_000 + 60_000 * i,
            }
            if head:
                row["head_event_ms"] = 1_772_000_400_000
            rows.append(row)
    return pl.DataFrame(rows)


def _values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    datasets = spec["datasets"]
    return [row for rows in datasets.values() for row in rows]


def test_throughput_and_behind_encode_time_value_and_version() -> None:
    for chart, field in ((throughput_chart, "records_in_per_s"), (behind_chart, "behind")):
        spec = chart(samples(["v1 live"])).to_dict()
        enc = spec["encoding"]
        assert (enc["x"]["field"], enc["x"]["type"]) == ("time", "temporal")
        assert (enc["y"]["field"], enc["y"]["type"]) == (field, "quantitative")
        assert (enc["color"]["field"], enc["color"]["type"]) == ("version", "nominal")
        assert spec["mark"]["type"] == "line"


def test_two_versions_are_two_series_in_one_chart() -> None:
    spec = behind_chart(samples(["v1 live", "v2 replay"])).to_dict()
    assert {row["version"] for row in _values(spec)} == {"v1 live", "v2 replay"}
    assert len(_values(spec)) == 10


def test_catch_up_chart_layers_the_head_when_known() -> None:
    one = catch_up_chart(samples(["v2 replay"])).to_dict()
    assert len(one["layer"]) == 1
    assert one["layer"][0]["encoding"]["y"] == {
        "field": "watermark", "type": "temporal", "title": "event time",
        # the date once, on the lowest label, then times that differ from tick to tick
        "axis": {"labelExpr": EVENT_TIME_LABELS, "labelOverlap": "greedy", "tickCount": 4},
    }  # fmt: skip
    two = catch_up_chart(samples(["v1 live", "v2 replay"], head=True)).to_dict()
    assert len(two["layer"]) == 2
    head = two["layer"][1]
    assert head["encoding"]["y"]["field"] == "head_event"
    assert head["mark"]["strokeDash"] == [4, 3]


def test_panel_puts_the_three_charts_side_by_side() -> None:
    spec = panel_chart(samples(["v1 live", "v2 replay"], head=True)).to_dict()
    assert len(spec["hconcat"]) == 3
    titles = [c.get("title") or c["layer"][0]["title"] for c in spec["hconcat"]]
    assert titles == ["records/s", "records behind the head", "watermark (event time)"]


def _axis_labels(chart: Any) -> list[str]:
    """The text of the watermark chart's y-axis labels, as Vega draws them."""
    import vl_convert  # type: ignore[import-untyped]

    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    axis = re.search(r'aria-label="Y-axis titled \'event time\'.*?</g></g></g>', svg, re.S)
    assert axis is not None, svg[:500]
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", axis.group(0))
    return texts[: texts.index("event time")]  # the tick labels come before the title


def test_event_time_labels_say_the_day_over_months_and_the_time_over_minutes() -> None:
    months = samples(["v2 replay"]).with_columns(
        (pl.lit(1_767_225_600_000) + pl.int_range(5) * 40 * 86_400_000).alias("watermark_ms")
    )  # 2026-01-01, then every 40 days
    labels = _axis_labels(catch_up_chart(months))
    assert labels and all(re.fullmatch(r"2026-\d\d-\d\d", t) for t in labels), labels
    minutes = _axis_labels(catch_up_chart(samples(["v1 live"])))
    assert re.fullmatch(r"[A-Z][a-z]{2} \d\d \d\d:\d\d", minutes[0]), minutes  # its day
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d", t) for t in minutes[1:]), minutes
