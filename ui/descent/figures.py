"""The descent page's figures: the error surface in 3D, its contour map, paths drawn on both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from ui.common.style import (
    MINIMUM_COLOR,
    START_COLOR,
    SURFACE_SCALE,
    TEMPLATE,
    color_for,
)


@dataclass(frozen=True)
class PathTrace:
    """One optimizer's walk over the weights: weights (k+1, 2), losses (k+1,)."""

    label: str
    weights: np.ndarray
    losses: np.ndarray
    diverged_at: int | None = None


def inside_count(weights: np.ndarray, w_range: tuple[float, float]) -> int:
    """How many leading points of a path (k+1, 2) are finite and inside the plotted square."""
    w = np.asarray(weights, float).reshape(-1, 2)
    lo, hi = w_range
    with np.errstate(invalid="ignore"):
        ok = np.all(np.isfinite(w) & (w >= lo) & (w <= hi), axis=1)
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else len(w)


def drawn_count(path: PathTrace, w_range: tuple[float, float]) -> int:
    """Points of ``path`` to draw: all, or for a diverged one up to where it leaves the plot.

    The first point outside is kept (when finite) so the line runs to the plot's edge.
    """
    n = len(path.weights)
    if path.diverged_at is None:
        return n
    inside = inside_count(path.weights, w_range)
    if inside < n and np.all(np.isfinite(path.weights[inside])):
        return inside + 1
    return max(inside, 1)


def _current(path: PathTrace, step: int | None, count: int) -> int:
    """Index of the scrubber's point on a path drawn with ``count`` points."""
    return count - 1 if step is None else min(max(step, 0), count - 1)


def surface_figure(
    w1: np.ndarray,
    w2: np.ndarray,
    z: np.ndarray,
    paths: Sequence[PathTrace] = (),
    *,
    step: int | None = None,
    start: tuple[float, float, float] | None = None,
    minimum: tuple[float, float, float] | None = None,
    height: int = 560,
) -> go.Figure:
    """The error surface z (r, r) over w1 (r,) x w2 (r,) in 3D, each path drawn on it."""
    w_range = (float(np.min(w1)), float(np.max(w1)))
    zmin, zmax = float(np.nanmin(z)), float(np.nanmax(z))
    lift = 0.01 * (zmax - zmin or 1.0)  # paths float just above the surface so they show
    fig = go.Figure(go.Surface(
        x=w1, y=w2, z=z, colorscale=SURFACE_SCALE, opacity=0.88, showscale=False,
        name="loss",
        hovertemplate="w1 = %{x:.3f}<br>w2 = %{y:.3f}<br>loss = %{z:.4g}<extra></extra>",
        contours={"z": {"show": True, "usecolormap": True, "project": {"z": True}, "width": 1}},
    ))
    for i, path in reversed(list(enumerate(paths))):  # the first path is drawn on top
        count = inside_count(path.weights, w_range) if path.diverged_at is not None else len(
            path.weights)
        count = max(count, 1)
        w, loss = path.weights[:count], path.losses[:count]
        color = color_for(i)
        fig.add_trace(go.Scatter3d(
            x=w[:, 0], y=w[:, 1], z=np.asarray(loss, float) + lift, mode="lines", name=path.label,
            line={"color": color, "width": 6}, legendgroup=path.label, legendrank=i + 1,
            hovertemplate=f"{path.label}<br>w1 = %{{x:.4f}}<br>w2 = %{{y:.4f}}<extra></extra>",
        ))
        k = _current(path, step, count)
        text = "diverged" if path.diverged_at is not None and k == count - 1 else ""
        fig.add_trace(go.Scatter3d(
            x=[w[k, 0]], y=[w[k, 1]], z=[float(loss[k]) + lift], mode="markers+text",
            text=[text], textposition="top center", showlegend=False, legendgroup=path.label,
            marker={"size": 6, "color": color, "line": {"color": "white", "width": 2}},
            hovertemplate=f"{path.label}, step {k}<br>w = (%{{x:.4f}}, %{{y:.4f}})<extra></extra>",
        ))
    for point, color, label, symbol in ((start, START_COLOR, "start", "circle"),
                                        (minimum, MINIMUM_COLOR, "minimum", "diamond")):
        if point is not None:
            fig.add_trace(go.Scatter3d(
                x=[point[0]], y=[point[1]], z=[point[2] + lift], mode="markers", name=label,
                marker={"size": 7, "color": color, "symbol": symbol,
                        "line": {"color": "black", "width": 1}},
            ))
    axis = {"range": list(w_range), "backgroundcolor": "white"}
    fig.update_layout(
        template=TEMPLATE, height=height, margin={"l": 0, "r": 0, "t": 10, "b": 0},
        uirevision="surface", legend={"orientation": "h", "y": 0.02, "x": 0.0},
        scene={
            "xaxis": {**axis, "title": {"text": "w1"}}, "yaxis": {**axis, "title": {"text": "w2"}},
            "zaxis": {"range": [zmin, zmax + 2 * lift], "title": {"text": "loss"}},
            "aspectmode": "manual", "aspectratio": {"x": 1, "y": 1, "z": 0.7},
            "camera": {"eye": {"x": -1.5, "y": -1.5, "z": 1.1}}, "uirevision": "surface",
        },
    )
    return fig


def contour_figure(
    w1: np.ndarray,
    w2: np.ndarray,
    z: np.ndarray,
    paths: Sequence[PathTrace] = (),
    *,
    step: int | None = None,
    start: tuple[float, float] | None = None,
    minimum: tuple[float, float] | None = None,
    height: int = 560,
) -> go.Figure:
    """The same surface z (r, r) seen from above as contour lines, the same paths on it."""
    w_range = (float(np.min(w1)), float(np.max(w1)))
    fig = go.Figure(go.Contour(
        x=w1, y=w2, z=z, colorscale=SURFACE_SCALE, showscale=False, ncontours=24,
        contours={"coloring": "heatmap", "showlabels": True,
                  "labelfont": {"size": 10, "color": "white"}},
        line={"width": 0.5}, opacity=0.85, name="loss",
        hovertemplate="w1 = %{x:.3f}<br>w2 = %{y:.3f}<br>loss = %{z:.4g}<extra></extra>",
    ))
    for i, path in reversed(list(enumerate(paths))):  # the first path is drawn on top
        count = drawn_count(path, w_range)
        w = path.weights[:count]
        color = color_for(i)
        fig.add_trace(go.Scatter(
            x=w[:, 0], y=w[:, 1], mode="lines+markers", name=path.label, legendgroup=path.label,
            legendrank=i + 1,
            line={"color": color, "width": 2.5}, marker={"size": 3, "color": color},
            hovertemplate=f"{path.label}<br>w = (%{{x:.4f}}, %{{y:.4f}})<extra></extra>",
        ))
        # the scrubber's marker stays on the plot: a diverged path's stops at its last point in
        inside = count if path.diverged_at is None else max(
            min(inside_count(path.weights, w_range), count), 1)
        k = _current(path, step, inside)
        fig.add_trace(go.Scatter(
            x=[w[k, 0]], y=[w[k, 1]], mode="markers", showlegend=False, legendgroup=path.label,
            marker={"size": 13, "color": color, "line": {"color": "white", "width": 2}},
            hovertemplate=f"{path.label}, step {k}<br>w = (%{{x:.4f}}, %{{y:.4f}})<extra></extra>",
        ))
        if path.diverged_at is not None:
            last = w[inside - 1]
            fig.add_annotation(x=last[0], y=last[1], text=f"<b>{path.label}: diverged</b>",
                               showarrow=True, arrowhead=2, ax=30, ay=-30,
                               font={"color": color}, bgcolor="rgba(255,255,255,0.85)")
    if start is not None:
        fig.add_trace(go.Scatter(
            x=[start[0]], y=[start[1]], mode="markers", name="start",
            marker={"size": 14, "color": START_COLOR, "line": {"color": "black", "width": 1}},
        ))
    if minimum is not None:
        fig.add_trace(go.Scatter(
            x=[minimum[0]], y=[minimum[1]], mode="markers", name="minimum",
            marker={"size": 18, "color": MINIMUM_COLOR, "symbol": "star",
                    "line": {"color": "black", "width": 1}},
        ))
    fig.update_layout(
        template=TEMPLATE, height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "y": -0.1, "x": 0.0}, uirevision="contour",
        xaxis={"range": list(w_range), "title": {"text": "w1"}, "constrain": "domain"},
        yaxis={"range": list(w_range), "title": {"text": "w2"}, "scaleanchor": "x",
               "scaleratio": 1, "constrain": "domain"},
    )
    return fig
