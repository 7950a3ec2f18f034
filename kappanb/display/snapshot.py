"""A static picture of a chart: what a saved notebook, nbconvert or nbval keeps of a panel.

Rendered to PNG in-process with vl-convert (no browser, no network), so the snapshot
shows the same charts wherever the notebook is opened, with or without widgets.
"""

from __future__ import annotations

import base64
from typing import Any

import altair as alt


def chart_png(chart: alt.TopLevelMixin, scale: float = 1.0) -> bytes:
    import vl_convert as vlc

    png: bytes = vlc.vegalite_to_png(chart.to_dict(), scale=scale)
    return png


def static_bundle(text: str, html: str, chart: alt.TopLevelMixin | None) -> dict[str, Any]:
    """A display bundle: plain text, HTML (with the chart as an inline PNG), the PNG."""
    bundle: dict[str, Any] = {"text/plain": text, "text/html": html}
    if chart is not None:
        encoded = base64.b64encode(chart_png(chart)).decode("ascii")
        bundle["image/png"] = encoded
        image = (
            f'<img alt="watch panel charts" style="max-width:100%" '
            f'src="data:image/png;base64,{encoded}">'
        )
        bundle["text/html"] = html + image
    return bundle
