"""Plotly figures of the dashboard, returned as plain figure JSON for ``Plotly.newPlot``.

Null values stay null so that a gap breaks a line instead of being drawn as zero.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go

Figure = dict[str, Any]

_FONT = {"family": "system-ui, -apple-system, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"}
_MARGIN = {"l": 56, "r": 16, "t": 16, "b": 48}
# Colours of the electricity sources: grid, on-site PV, direct green, storage.
SOURCE_COLOURS = ("#6b7a8f", "#f2a541", "#3d9970", "#8e6bbf")


def _as_json(fig: go.Figure) -> Figure:
    fig.update_layout(template="none", font=_FONT, margin=_MARGIN)
    out: Figure = json.loads(fig.to_json())
    return out


def load_figure(
    hours: Sequence[str], kw: Sequence[float | None], t: Callable[[str], str]
) -> Figure:
    """Return the hourly load curve: mean power per hour [kW]; a null hour breaks the line."""
    fig = go.Figure(
        go.Scatter(
            x=list(hours),
            y=list(kw),
            mode="lines+markers",
            connectgaps=False,
            name=t("load_kw"),
            line={"color": "#1f6f8b", "width": 2},
            hovertemplate="%{x}: %{y:.2f} kW<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis={"title": {"text": t("hour")}, "type": "category", "automargin": True},
        yaxis={"title": {"text": t("load_kw")}, "rangemode": "tozero", "automargin": True},
        height=320,
    )
    return _as_json(fig)


def sources_figure(labels: Sequence[str], kwh: Sequence[float]) -> Figure:
    """Return the pie of electricity by source [kWh]; empty or negative parts are left out.

    A negative part is net storage charging, which is not a source; the table beside the pie
    still lists it.
    """
    keep = [i for i, v in enumerate(kwh) if v > 0]
    fig = go.Figure(
        go.Pie(
            labels=[labels[i] for i in keep],
            values=[kwh[i] for i in keep],
            marker={"colors": [SOURCE_COLOURS[i % len(SOURCE_COLOURS)] for i in keep]},
            sort=False,
            hole=0.45,
            texttemplate="%{percent:.1%}",
            hovertemplate="%{label}: %{value:,.1f} kWh<extra></extra>",
        )
    )
    fig.update_layout(height=320, legend={"orientation": "h"})
    return _as_json(fig)


def monthly_figure(
    months: Sequence[str], series: dict[str, Sequence[float | None]], t: Callable[[str], str]
) -> Figure:
    """Return stacked bars of standard coal per month and carrier [tce]."""
    fig = go.Figure(
        [
            go.Bar(
                x=list(months),
                y=list(values),
                name=name,
                hovertemplate="%{x} " + name + ": %{y:.4g} tce<extra></extra>",
            )
            for name, values in series.items()
        ]
    )
    fig.update_layout(
        barmode="stack",
        xaxis={"title": {"text": t("month")}, "type": "category", "automargin": True},
        yaxis={"title": {"text": "tce"}, "automargin": True},
        height=320,
        legend={"orientation": "h"},
    )
    return _as_json(fig)
