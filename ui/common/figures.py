"""Figures more than one page draws: the loss per step, and a y range that ignores blow-ups."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from ui.common.style import TEMPLATE, color_for


def robust_range(curves: Mapping[str, np.ndarray], low: float = 2.0,
                 high: float = 98.0) -> tuple[float, float] | None:
    """A y range showing the bulk of the curves' finite values (percentiles), 10% padding.

    Keeps one exploding curve (1/p near p = 0) from flattening all the others; None if empty.
    """
    values = np.concatenate([np.asarray(v, float).ravel() for v in curves.values()] or [[]])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    lo, hi = (float(v) for v in np.percentile(values, [low, high]))
    lo, hi = min(lo, 0.0), max(hi, 0.0)  # keep the zero line in view
    pad = 0.1 * (hi - lo) or 1.0
    return lo - pad, hi + pad


def finite_or_none(values: np.ndarray) -> list[float | None]:
    """Plotly breaks a line at None: non-finite values become gaps instead of errors."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, float).ravel()]


def loss_step_figure(
    series: Mapping[str, np.ndarray],
    *,
    step: int | None = None,
    diverged_at: Mapping[str, int | None] | None = None,
    log_y: bool = True,
    height: int = 340,
    title: str = "",
) -> go.Figure:
    """Loss against step for each named series (k+1,), a vertical line at the scrubber's step."""
    diverged_at = diverged_at or {}
    fig = go.Figure()
    floor = 1e-16  # a loss of exactly 0 has no logarithm: draw it at the floor
    for i, (label, losses) in enumerate(series.items()):
        values = np.asarray(losses, float)
        stop = diverged_at.get(label)
        if stop is not None:
            finite = np.flatnonzero(~np.isfinite(values))
            end = min(stop + 1, int(finite[0]) if finite.size else len(values))
            values = values[:max(end, 1)]
        shown = np.maximum(values, floor) if log_y else values
        fig.add_trace(go.Scatter(
            x=np.arange(len(values)), y=finite_or_none(shown), mode="lines", name=label,
            line={"color": color_for(i), "width": 2},
            hovertemplate=f"{label}<br>step %{{x}}: loss = %{{y:.6g}}<extra></extra>",
        ))
        if stop is not None and len(values):
            fig.add_annotation(x=len(values) - 1, y=math.log10(max(float(shown[-1]), floor))
                               if log_y else float(shown[-1]),
                               text=f"{label}: diverged", showarrow=True, arrowhead=2,
                               font={"color": color_for(i)})
    if step is not None:
        fig.add_vline(x=step, line={"dash": "dot", "color": "#495057"},
                      annotation_text=f"step {step}", annotation_position="top right")
    fig.update_layout(
        template=TEMPLATE, height=height, title={"text": title, "x": 0.0, "xanchor": "left"},
        margin={"l": 10, "r": 10, "t": 50 if title else 30, "b": 10},
        legend={"orientation": "h", "y": -0.25, "x": 0.0}, hovermode="x unified",
        xaxis={"title": {"text": "step"}}, yaxis={"title": {"text": "loss"},
                                                  "type": "log" if log_y else "linear"},
    )
    return fig
