"""Plotly figure builders for the lesson pages: plain arrays in, ``go.Figure`` out.

No Streamlit and no maths of the network here: the pages compute every number with ``nn_core``
and these functions only draw them (and format them for people to read).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import plotly.graph_objects as go

POSITIVE = "#1f77b4"  # blue: positive weights and values (as TensorFlow Playground)
NEGATIVE = "#f76707"  # orange: negative ones
START_COLOR = "#e03131"  # the lesson's red starting point
MINIMUM_COLOR = "#fab005"
# curve and path colours; no red, which marks the start point
PALETTE: tuple[str, ...] = (
    "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22",
    "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#7b4173", "#3182bd", "#e6550d", "#31a354",
    "#756bb1", "#843c39",
)
TEMPLATE = "plotly_white"
SURFACE_SCALE = "Viridis"


def short(value: float, digits: int = 6) -> str:
    """A number as people write it: up to ``digits`` significant digits, no trailing zeros."""
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def fixed(value: float, decimals: int = 7) -> str:
    """A number with fixed decimals (``1.8263000``); e-notation when huge or tiny."""
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e7 or abs(value) < 10.0 ** -decimals):
        return f"{value:.{decimals}e}"
    return f"{value:.{decimals}f}"


def tex(value: float, digits: int = 6, *, factor: bool = True,
        fmt: Callable[[float], str] | None = None) -> str:
    """A number for LaTeX (``fmt`` or ``short``), e-notation as ``\\times 10^k``; a negative
    factor in parentheses."""
    text = fmt(value) if fmt else short(value, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return f"({text})" if factor and value < 0 else text


def color_for(index: int) -> str:
    """The palette colour of the ``index``-th curve or path (cycles through PALETTE)."""
    return PALETTE[index % len(PALETTE)]


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


def sign_color(value: float) -> str:
    """Blue for positive (and zero), orange for negative values."""
    return POSITIVE if value >= 0 else NEGATIVE


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    """Plotly breaks a line at None: non-finite values become gaps instead of errors."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, float).ravel()]


# ---------------------------------------------------------------- the 2-2-1 network diagram
_NODES = MappingProxyType(
    {"x1": (0.0, 1.0), "x2": (0.0, 0.0), "N1": (1.0, 1.0), "N2": (1.0, 0.0), "Y": (2.0, 0.5)})
# (source, destination, where along the edge its label sits) for w1..w6
_EDGES = (("x1", "N1", 0.5), ("x2", "N1", 0.28), ("x1", "N2", 0.28), ("x2", "N2", 0.5),
          ("N1", "Y", 0.5), ("N2", "Y", 0.5))


def _node_text(name: str, pre: str, post: str, activation: str) -> str:
    """'N1 = 2.154' for linear, 'N1 = 2.154 → relu → 2.154' otherwise (numbers as text)."""
    if activation == "linear":
        return f"<b>{name}</b> = {post}"
    return f"<b>{name}</b> = {pre} → {activation} → <b>{post}</b>"


def network_diagram(
    weights: Sequence[float],
    inputs: Sequence[float],
    pre: Sequence[float],
    post: Sequence[float],
    *,
    hidden: str,
    output: str,
    target: float | None = None,
    loss: float | None = None,
    loss_name: str = "loss",
    fmt: Callable[[float], str] | None = None,
) -> go.Figure:
    """The 2-2-1 network: weights (6,), inputs (2,), node values before/after activation (3,).

    ``fmt`` writes every number (e.g. as the page's float32 digits); else ``short`` digits.
    """
    def num(value: float, digits: int = 6) -> str:
        return fmt(value) if fmt else short(value, digits)

    w = [float(v) for v in weights]
    values = {"x1": float(inputs[0]), "x2": float(inputs[1]), "N1": float(post[0]),
              "N2": float(post[1]), "Y": float(post[2])}
    befores = {"N1": float(pre[0]), "N2": float(pre[1]), "Y": float(pre[2])}
    biggest = max(max(abs(v) for v in w), 1e-12)
    fig = go.Figure()
    hover_x, hover_y, hover_text, hover_color = [], [], [], []
    for i, (src, dst, at) in enumerate(_EDGES):
        (x0, y0), (x1, y1) = _NODES[src], _NODES[dst]
        color = sign_color(w[i])
        fig.add_trace(go.Scatter(
            x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="skip", showlegend=False,
            line={"color": color, "width": 1.0 + 9.0 * abs(w[i]) / biggest},
            opacity=0.8,
        ))
        lx, ly = x0 + at * (x1 - x0), y0 + at * (y1 - y0)
        fig.add_annotation(x=lx, y=ly, text=f"w{i + 1} = {num(w[i], 4)}", showarrow=False,
                           font={"color": color, "size": 13}, bgcolor="rgba(255,255,255,0.9)")
        hover_x.append(lx)
        hover_y.append(ly)
        hover_color.append(color)
        hover_text.append(
            f"w{i + 1} = {num(w[i], 10)}<br>{src} → {dst}<br>"
            f"{src}·w{i + 1} = {num(values[src], 8)} · {num(w[i], 8)} "
            f"= {num(values[src] * w[i], 8)}"
        )
    fig.add_trace(go.Scatter(
        x=hover_x, y=hover_y, mode="markers", showlegend=False, hovertext=hover_text,
        hoverinfo="text", marker={"size": 28, "color": hover_color, "opacity": 0.0},
    ))
    biggest_value = max(max(abs(v) for v in values.values()), 1e-12)
    activations = {"N1": hidden, "N2": hidden, "Y": output}
    names = list(_NODES)
    node_hover = []
    for name in names:
        if name in befores:
            node_hover.append(
                f"{name} before activation = {num(befores[name], 10)}<br>"
                f"{activations[name]}({num(befores[name], 8)}) = {num(values[name], 10)}"
            )
        else:
            node_hover.append(f"input {name} = {num(values[name], 10)}")
    fig.add_trace(go.Scatter(
        x=[_NODES[n][0] for n in names], y=[_NODES[n][1] for n in names], mode="markers+text",
        text=[f"<b>{n}</b>" for n in names], textfont={"size": 15, "color": "#212529"},
        hovertext=node_hover, hoverinfo="text", showlegend=False,
        marker={
            "size": 54, "line": {"color": "#343a40", "width": 2},
            # pale fill so the bold name stays readable; the colour deepens with |value|
            "color": [_rgba(sign_color(values[n]), 0.15 + 0.55 * abs(values[n]) / biggest_value)
                      for n in names],
        },
    ))
    for name, (x, y) in _NODES.items():
        if name in ("x1", "x2"):
            fig.add_annotation(x=x, y=y, xshift=-34, xanchor="right", showarrow=False,
                               text=f"<b>{name}</b> = {num(values[name])}", font={"size": 14})
        else:
            activation = output if name == "Y" else hidden
            fig.add_annotation(x=x, y=y, yshift=-40 if name == "N2" else 40, showarrow=False,
                               text=_node_text(name, num(befores[name]), num(values[name]),
                                               activation),
                               font={"size": 14})
    if target is not None:
        lines = [f"target = {num(target)}"]
        if loss is not None:
            lines.append(f"{loss_name} = {num(loss)}")
        fig.add_annotation(x=2.0, y=0.5, xshift=36, xanchor="left", text="<br>".join(lines),
                           showarrow=False, font={"size": 14}, align="left",
                           bordercolor="#adb5bd", borderpad=4, bgcolor="#f8f9fa")
    fig.update_layout(
        template=TEMPLATE, height=400, margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False, "range": [-0.55, 2.75], "fixedrange": True},
        yaxis={"visible": False, "range": [-0.3, 1.3], "fixedrange": True},
        hovermode="closest", plot_bgcolor="white",
    )
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    """'#1f77b4', 0.5 -> 'rgba(31,119,180,0.5)'."""
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.3f})"


# ---------------------------------------------------------------- curves: activations and losses
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
) -> go.Figure:
    """Overlaid curves y(x), x (n,) and each y (n,); markers on them; dotted vertical guides."""
    order = {name: i for i, name in enumerate(curves)}
    fig = go.Figure()
    for name, y in curves.items():
        fig.add_trace(go.Scatter(
            x=np.asarray(x, float), y=_finite_or_none(y), mode="lines", name=name,
            line={"color": color_for(order[name]), "width": 2.5},
            hovertemplate=f"{name}(%{{x:.4g}}) = %{{y:.6g}}<extra></extra>",
        ))
    for marker in markers:
        if not (math.isfinite(marker.x) and math.isfinite(marker.y)):
            continue
        name = f"{marker.label} on {marker.curve}" if marker.label else marker.curve
        fig.add_trace(go.Scatter(
            x=[marker.x], y=[marker.y], mode="markers", showlegend=False,
            legendgroup=marker.curve,
            marker={"size": 10, "color": color_for(order.get(marker.curve, 0)),
                    "line": {"color": "white", "width": 1.5}},
            hovertemplate=f"{name}: x = {short(marker.x, 8)}, y = {short(marker.y, 8)}"
                          "<extra></extra>",
        ))
    span = float(np.max(x) - np.min(x)) or 1.0
    previous, shift = None, 0
    for label, gx in sorted((guides or {}).items(), key=lambda item: item[1]):
        if not math.isfinite(gx):
            continue
        # labels of guides close together are stacked instead of printed over each other
        shift = shift + 1 if previous is not None and gx - previous < 0.12 * span else 0
        previous = gx
        fig.add_vline(x=gx, line={"dash": "dot", "color": "#868e96", "width": 1})
        fig.add_annotation(x=gx, y=1.0, yref="paper", yanchor="bottom", yshift=2 + 14 * shift,
                           text=label, showarrow=False, font={"size": 11, "color": "#495057"})
    fig.update_layout(
        template=TEMPLATE, height=height, title={"text": title, "x": 0.0, "xanchor": "left"},
        margin={"l": 10, "r": 10, "t": 80 if title else 50, "b": 10}, hovermode="closest",
        legend={"orientation": "h", "y": -0.18, "x": 0.0},
        xaxis={"title": {"text": x_title}, "range": [float(np.min(x)), float(np.max(x))],
               "zeroline": True, "zerolinecolor": "#adb5bd"},
        yaxis={"title": {"text": y_title}, "zeroline": True, "zerolinecolor": "#adb5bd"},
    )
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return fig


# ---------------------------------------------------------------- gradient descent
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
            x=np.arange(len(values)), y=_finite_or_none(shown), mode="lines", name=label,
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
