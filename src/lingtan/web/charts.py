"""Plotly figures of the dashboard, returned as plain figure JSON for ``Plotly.newPlot``.

Null values stay null so that a gap breaks a line instead of being drawn as zero; the load
curve also shades its missing hours.
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
# Background of the hours of a load curve without data.
GAP_COLOUR = "#d9d9d9"
GAP_LABEL_HOURS = 3  # shortest run of missing hours that is labelled


def _as_json(fig: go.Figure) -> Figure:
    fig.update_layout(template="none", font=_FONT, margin=_MARGIN)
    out: Figure = json.loads(fig.to_json())
    return out


def gap_runs(values: Sequence[float | None]) -> list[tuple[int, int]]:
    """Return the runs of consecutive nulls as (first, last) positions, inclusive."""
    runs: list[tuple[int, int]] = []
    for i, v in enumerate(values):
        if v is not None:
            continue
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def load_figure(
    hours: Sequence[str], kw: Sequence[float | None], t: Callable[[str], str]
) -> Figure:
    """Return the hourly load curve: mean power per hour [kW].

    A null hour (data missing, :func:`lingtan.services.energy.load_curve`) breaks the line and
    is shaded grey with the word for missing data over it, so that a gap is never read as zero.
    """
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
    for first, last in gap_runs(kw):
        # a category axis places category i at i: the band spans its hours edge to edge
        fig.add_shape(
            type="rect",
            xref="x",
            yref="paper",
            x0=first - 0.5,
            x1=last + 0.5,
            y0=0,
            y1=1,
            fillcolor=GAP_COLOUR,
            opacity=0.35,
            line_width=0,
            layer="below",
        )
        if last - first + 1 >= GAP_LABEL_HOURS:  # the word on runs wide enough to hold it
            fig.add_annotation(
                x=(first + last) / 2,
                xref="x",
                y=1,
                yref="paper",
                yanchor="top",
                text=t("missing"),
                showarrow=False,
                font={"color": "#8a5a00", "size": 11},
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
