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

_WIDTH, _HEIGHT = 260, 160
_CLOCK = alt.Axis(format="%H:%M:%S", labelAngle=0, tickCount=4)
_EVENT_TIME = alt.Axis(format="%Y-%m-%d %H:%M")


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
            y=alt.Y(f"{y}:Q", title=title),
            color=alt.Color("version:N", title="version"),
            tooltip=["version:N", "time:T", f"{y}:Q"],
        )
    )
    return chart


def throughput_chart(samples: pl.DataFrame) -> alt.Chart:
    """Records read per second over time, one line per version."""
    return _line(_prepare(samples), "records_in_per_s", "records/s")


def behind_chart(samples: pl.DataFrame) -> alt.Chart:
    """Records behind the head of the log over time, one line per version."""
    return _line(_prepare(samples), "behind", "records behind the head")


def catch_up_chart(samples: pl.DataFrame) -> alt.LayerChart:
    """Each version's watermark against wall clock, with the head's event time when known.

    A replay's line climbs steeply towards the live version's; once they meet, the
    replay has caught up in event time.
    """
    data = _prepare(samples)
    watermarks = (
        alt.Chart(data, width=_WIDTH, height=_HEIGHT, title="watermark (event time)")
        .mark_line()
        .encode(
            x=alt.X("time:T", title="wall clock", axis=_CLOCK),
            y=alt.Y("watermark:T", title="event time", axis=_EVENT_TIME),
            color=alt.Color("version:N", title="version"),
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


def panel_chart(samples: pl.DataFrame) -> alt.HConcatChart:
    """The three charts of the watch panel, side by side."""
    return alt.hconcat(throughput_chart(samples), behind_chart(samples), catch_up_chart(samples))
