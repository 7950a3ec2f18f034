"""Chart builders for the watch panel: pure functions from a polars frame of samples to altair.

The frame has one row per sample and version, with columns ``version`` (e.g. "v2
replay"), ``at`` (seconds since the epoch), ``records_in_per_s``, ``behind`` and
``watermark_ms``; ``head_event_ms`` (the newest event time in the log) is optional.
Widgets only arrange these charts and feed them new frames.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

_WIDTH, _HEIGHT = 240, 150
# Labels thinned so none overlap, and the event-time date said once (the lowest label):
# "%Y-%m-%d %H:%M" on every tick repeated one label, and wall-clock labels collided; but
# over months every tick is a midnight, and "00:00:00" four times said nothing.
_CLOCK = alt.Axis(format="%H:%M:%S", labelAngle=0, tickCount=3, labelOverlap="greedy")
EVENT_TIME_LABELS = (
    "timeFormat(datum.value, hours(datum.value) + minutes(datum.value) + seconds(datum.value)"
    " == 0 ? '%Y-%m-%d' : datum.index == 0 ? '%b %d %H:%M' : '%H:%M:%S')"
)
"""A tick at midnight (the ticks of a span of days or months) is a date; others show the
time, the lowest with its day."""
_EVENT_TIME = alt.Axis(labelExpr=EVENT_TIME_LABELS, tickCount=4, labelOverlap="greedy")
_LEGEND = alt.Legend(orient="top", title=None)
"""Above each chart: visible whatever width the output area leaves for it."""


def _prepare(samples: pl.DataFrame) -> pl.DataFrame:
    """Wall-clock and event times as datetimes altair understands."""
    columns = [pl.from_epoch(pl.col("at"), time_unit="s").alias("time")]
    for name in ("watermark_ms", "head_event_ms"):
        if name in samples.columns:
            columns.append(pl.from_epoch(pl.col(name), time_unit="ms").alias(name[:-3]))
    return samples.with_columns(columns)


def _line(data: pl.DataFrame, y: str, title: str) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(data, width=_WIDTH, height=_HEIGHT, title=title)
        .mark_line(point=False)
        .encode(
            x=alt.X("time:T", title="wall clock", axis=_CLOCK),
            y=alt.Y(f"{y}:Q", title=title, axis=alt.Axis(format="~s")),
            color=alt.Color("version:N", title="version", legend=_LEGEND),
            tooltip=["version:N", "time:T", alt.Tooltip(f"{y}:Q", format=",.0f")],
        )
    )
    return chart


def _only(data: pl.DataFrame, *fields: str) -> pl.DataFrame:
    """The columns one chart draws: each of the panel's charts is a widget of its own, so
    each carries (and validates, on every refresh) only its own data."""
    return data.select(["time", "version", *(f for f in fields if f in data.columns)])


def throughput_chart(samples: pl.DataFrame) -> alt.Chart:
    """Records read per second over time, one line per version."""
    return _line(_only(_prepare(samples), "records_in_per_s"), "records_in_per_s", "records/s")


def behind_chart(samples: pl.DataFrame) -> alt.Chart:
    """Records behind the head of the log over time, one line per version."""
    return _line(_only(_prepare(samples), "behind"), "behind", "records behind the head")


def catch_up_chart(samples: pl.DataFrame) -> alt.LayerChart:
    """Each version's watermark against wall clock, with the head's event time when known.

    A replay's line climbs steeply towards the live version's; once they meet, the
    replay has caught up in event time.
    """
    data = _only(_prepare(samples), "watermark", "head_event")
    watermarks = (
        alt.Chart(data, width=_WIDTH, height=_HEIGHT, title="watermark (event time)")
        .mark_line()
        .encode(
            x=alt.X("time:T", title="wall clock", axis=_CLOCK),
            y=alt.Y("watermark:T", title="event time", axis=_EVENT_TIME),
            color=alt.Color("version:N", title="version", legend=_LEGEND),
            tooltip=["version:N", "time:T", "watermark:T"],
        )
    )
    layers: list[Any] = [watermarks]
    if "head_event" in data.columns:
        layers.append(
            alt.Chart(data)
            .mark_line(strokeDash=[4, 3], color="gray")
            .encode(
                x="time:T",
                y="head_event:T",
                detail="version:N",
                tooltip=["time:T", alt.Tooltip("head_event:T", title="newest event")],
            )
        )
    return alt.LayerChart(layer=layers)


def panel_charts(samples: pl.DataFrame) -> list[alt.Chart | alt.LayerChart]:
    """The three charts of the watch panel, each with its legend on top: the live panel
    lays them out in a row that wraps, so they fit the output area's width."""
    return [throughput_chart(samples), behind_chart(samples), catch_up_chart(samples)]


def panel_chart(samples: pl.DataFrame) -> alt.HConcatChart:
    """The three charts side by side, as one picture (the saved notebook's snapshot)."""
    return alt.hconcat(*panel_charts(samples))
