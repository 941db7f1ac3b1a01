"""The forward-pass page's figure: the 2-2-1 network as a diagram (arrays in, figure out)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType

import plotly.graph_objects as go

from ui.common.figures import plain_figure
from ui.common.format import short
from ui.common.style import (
    TEMPLATE_SPEC,
    rgba,
    sign_color,
)

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
    data, annotations = [], []
    hover_x, hover_y, hover_text, hover_color = [], [], [], []
    for i, (src, dst, at) in enumerate(_EDGES):
        (x0, y0), (x1, y1) = _NODES[src], _NODES[dst]
        color = sign_color(w[i])
        data.append({
            "type": "scatter", "x": [x0, x1], "y": [y0, y1], "mode": "lines",
            "hoverinfo": "skip", "showlegend": False,
            "line": {"color": color, "width": 1.0 + 9.0 * abs(w[i]) / biggest}, "opacity": 0.8,
        })
        lx, ly = x0 + at * (x1 - x0), y0 + at * (y1 - y0)
        annotations.append({"x": lx, "y": ly, "text": f"w{i + 1} = {num(w[i], 4)}",
                            "showarrow": False, "font": {"color": color, "size": 13},
                            "bgcolor": "rgba(255,255,255,0.9)"})
        hover_x.append(lx)
        hover_y.append(ly)
        hover_color.append(color)
        hover_text.append(
            f"w{i + 1} = {num(w[i], 10)}<br>{src} → {dst}<br>"
            f"{src}·w{i + 1} = {num(values[src], 8)} · {num(w[i], 8)} "
            f"= {num(values[src] * w[i], 8)}"
        )
    data.append({
        "type": "scatter", "x": hover_x, "y": hover_y, "mode": "markers", "showlegend": False,
        "hovertext": hover_text, "hoverinfo": "text",
        "marker": {"size": 28, "color": hover_color, "opacity": 0.0},
    })
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
    data.append({
        "type": "scatter", "x": [_NODES[n][0] for n in names],
        "y": [_NODES[n][1] for n in names], "mode": "markers+text",
        "text": [f"<b>{n}</b>" for n in names], "textfont": {"size": 15, "color": "#212529"},
        "hovertext": node_hover, "hoverinfo": "text", "showlegend": False,
        "marker": {
            "size": 54, "line": {"color": "#343a40", "width": 2},
            # pale fill so the bold name stays readable; the colour deepens with |value|
            "color": [rgba(sign_color(values[n]), 0.15 + 0.55 * abs(values[n]) / biggest_value)
                      for n in names],
        },
    })
    for name, (x, y) in _NODES.items():
        if name in ("x1", "x2"):
            annotations.append({"x": x, "y": y, "xshift": -34, "xanchor": "right",
                                "showarrow": False, "text": f"<b>{name}</b> = {num(values[name])}",
                                "font": {"size": 14}})
        else:
            activation = output if name == "Y" else hidden
            annotations.append({"x": x, "y": y, "yshift": -40 if name == "N2" else 40,
                                "showarrow": False,
                                "text": _node_text(name, num(befores[name]), num(values[name]),
                                                   activation),
                                "font": {"size": 14}})
    if target is not None:
        lines = [f"target = {num(target)}"]
        if loss is not None:
            lines.append(f"{loss_name} = {num(loss)}")
        annotations.append({"x": 2.0, "y": 0.5, "xshift": 36, "xanchor": "left",
                            "text": "<br>".join(lines), "showarrow": False, "font": {"size": 14},
                            "align": "left", "bordercolor": "#adb5bd", "borderpad": 4,
                            "bgcolor": "#f8f9fa"})
    return plain_figure(data, {
        "template": TEMPLATE_SPEC, "height": 400, "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "xaxis": {"visible": False, "range": [-0.55, 2.75], "fixedrange": True},
        "yaxis": {"visible": False, "range": [-0.3, 1.3], "fixedrange": True},
        "hovermode": "closest", "plot_bgcolor": "white", "annotations": annotations,
    })
