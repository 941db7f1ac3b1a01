"""The curves page's figure: activations, losses or their derivatives over x, with markers."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from ui.common.figures import gaps, plain_figure, vline
from ui.common.format import short
from ui.common.i18n import _
from ui.common.style import (
    TEMPLATE_SPEC,
    THEME_MUTED,
    THEME_TEXT,
    color_for,
)

# Margins that already hold what plotly places around a chart (the y ticks and title, the last x
# tick, the x title and one legend row per curve below): plotly grows a margin that is too small
# and then draws the chart a second time (up to a third of a chart's drawing in Chromium here;
# tests/e2e/test_e2e_pages.py checks that the drawn margins are these).
LEGEND_BELOW, LEGEND_ROW = 72, 16  # px: the x axis and its title, then each legend row


@dataclass(frozen=True)
class CurveMarker:
    """A point drawn on the curve named ``curve`` (same colour), labelled e.g. 'N1'."""

    curve: str
    label: str
    x: float
    y: float


def curves_figure(
    x: np.ndarray,
    curves: Mapping[str, np.ndarray],
    *,
    markers: Sequence[CurveMarker] = (),
    guides: Mapping[str, float] | None = None,
    title: str = "",
    x_title: str = "x",
    y_title: str = "",
    y_range: tuple[float, float] | None = None,
    height: int = 420,
    fmt: Callable[[float], str] | None = None,
) -> go.Figure:
    """Overlaid curves y(x), x (n,) and each y (n,); markers on them; dotted vertical guides.

    ``fmt`` writes the hovered values (the page's lesson precision or exact digits: each
    curve carries its n texts); else 6 significant digits."""
    order = {name: i for i, name in enumerate(curves)}
    write = fmt or (lambda value: short(value, 8))
    xs = np.asarray(x, float)
    data = [{
        "type": "scatter", "x": xs, "y": gaps(y), "mode": "lines", "name": name,
        "line": {"color": color_for(order[name]), "width": 2.5},
        **({"text": [fmt(float(v)) for v in np.ravel(y)]} if fmt else {}),
        "hovertemplate": f"{name}(%{{x:.4g}}) = {'%{text}' if fmt else '%{y:.6g}'}"
                         "<extra></extra>",
    } for name, y in curves.items()]
    for marker in markers:
        if not (math.isfinite(marker.x) and math.isfinite(marker.y)):
            continue
        name = (_("{neuron} on {curve}").format(neuron=marker.label, curve=marker.curve)
                if marker.label else marker.curve)
        data.append({
            "type": "scatter", "x": [float(marker.x)], "y": [float(marker.y)], "mode": "markers",
            "showlegend": False, "legendgroup": marker.curve,
            "marker": {"size": 10, "color": color_for(order.get(marker.curve, 0)),
                       "line": {"color": "white", "width": 1.5}},
            "hovertemplate": f"{name}: x = {write(marker.x)}, y = {write(marker.y)}"
                             "<extra></extra>",
        })
    span = float(np.max(x) - np.min(x)) or 1.0
    previous, shift = None, 0
    shapes, annotations = [], []
    for label, gx in sorted((guides or {}).items(), key=lambda item: item[1]):
        if not math.isfinite(gx):
            continue
        # labels of guides close together are stacked instead of printed over each other
        shift = shift + 1 if previous is not None and gx - previous < 0.12 * span else 0
        previous = gx
        shapes.append(vline(gx, {"dash": "dot", "color": THEME_MUTED, "width": 1})[0])
        annotations.append({"x": gx, "y": 1.0, "yref": "paper", "yanchor": "bottom",
                            "yshift": 2 + 14 * shift, "text": label, "showarrow": False,
                            "font": {"size": 11, "color": THEME_TEXT}})
    yaxis = {"title": {"text": y_title}, "zeroline": True, "zerolinecolor": "#adb5bd"}
    if y_range is not None:
        yaxis["range"] = list(y_range)
    layout = {
        "template": TEMPLATE_SPEC, "height": height,
        "title": {"text": title, "x": 0.0, "xanchor": "left"},
        "margin": {"l": 76, "r": 20, "t": 80 if title else 50,
                   "b": LEGEND_BELOW + LEGEND_ROW * len(curves)},
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.18, "x": 0.0},
        "xaxis": {"title": {"text": x_title}, "range": [float(np.min(x)), float(np.max(x))],
                  "zeroline": True, "zerolinecolor": "#adb5bd"},
        "yaxis": yaxis,
    }
    if shapes:
        layout["shapes"] = shapes
        layout["annotations"] = annotations
    return plain_figure(data, layout)
