"""The forward-pass page's figure: the 2-2-1 network as a diagram (arrays in, figure out)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType

import plotly.graph_objects as go

from ui.common.figures import plain_figure
from ui.common.format import short
from ui.common.i18n import _
from ui.common.style import (
    TEMPLATE_SPEC,
    THEME_BACKGROUND,
    THEME_MUTED,
    THEME_TEXT,
    rgba,
    sign_color,
)

_NODES = MappingProxyType(
    {"x1": (0.0, 1.0), "x2": (0.0, 0.0), "N1": (1.0, 1.0), "N2": (1.0, 0.0), "Y": (2.0, 0.5)})
# (source, destination, where along the edge its label sits) for w1..w6
# (w5 sits nearer N1: the label of Y takes the space above Y)
_EDGES = (("x1", "N1", 0.5), ("x2", "N1", 0.28), ("x1", "N2", 0.28), ("x2", "N2", 0.5),
          ("N1", "Y", 0.3), ("N2", "Y", 0.5))
# Every label sits above or below its node, anchored inside the x range, so the diagram fits a
# phone's 390 px as well as a wide screen (labels beside the nodes were cut off on both sides).
_X_RANGE = (-0.3, 2.3)
_LABEL_GAP = 30  # px from a node's centre to its label (the node's radius is 27 px)


def _node_text(name: str, pre: str, post: str, activation: str) -> str:
    """'N1 = 2.154' for linear, 'N1 = 2.154 → relu → 2.154' otherwise (numbers as text)."""
    if activation == "linear":
        return f"<b>{name}</b> = {post}"
    return f"<b>{name}</b> = {pre}<br>→ {activation} → <b>{post}</b>"


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
    data, annotations, edges = [], [], []
    hover_x, hover_y, hover_text, hover_color = [], [], [], []
    for i, (src, dst, at) in enumerate(_EDGES):
        (x0, y0), (x1, y1) = _NODES[src], _NODES[dst]
        color = sign_color(w[i])
        # a line shape, not a trace of its own: six traces fewer for plotly to lay out on
        # every slider move (the diagram drew in ~9.5 instead of ~14.5 ms in Chromium)
        edges.append({
            "type": "line", "x0": x0, "y0": y0, "x1": x1, "y1": y1, "layer": "below",
            "line": {"color": color, "width": 1.0 + 9.0 * abs(w[i]) / biggest}, "opacity": 0.8,
        })
        lx, ly = x0 + at * (x1 - x0), y0 + at * (y1 - y0)
        annotations.append({"x": lx, "y": ly, "text": f"w{i + 1} = {num(w[i], 4)}",
                            "showarrow": False, "font": {"color": color, "size": 13},
                            "bgcolor": THEME_BACKGROUND})
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
                _("{neuron} before activation = {value}").format(
                    neuron=name, value=num(befores[name], 10)) + "<br>"
                f"{activations[name]}({num(befores[name], 8)}) = {num(values[name], 10)}"
            )
        else:
            node_hover.append(_("input {name} = {value}").format(
                name=name, value=num(values[name], 10)))
    data.append({
        "type": "scatter", "x": [_NODES[n][0] for n in names],
        "y": [_NODES[n][1] for n in names], "mode": "markers+text",
        "text": [f"<b>{n}</b>" for n in names], "textfont": {"size": 15, "color": THEME_TEXT},
        "hovertext": node_hover, "hoverinfo": "text", "showlegend": False,
        "marker": {
            "size": 54, "line": {"color": THEME_MUTED, "width": 2},
            # pale fill so the bold name stays readable; the colour deepens with |value|
            "color": [rgba(sign_color(values[n]), 0.15 + 0.55 * abs(values[n]) / biggest_value)
                      for n in names],
        },
    })
    for name, (x, y) in _NODES.items():
        below = name in ("x2", "N2")
        label = {"x": x, "y": y, "yshift": -_LABEL_GAP if below else _LABEL_GAP,
                 "yanchor": "top" if below else "bottom", "showarrow": False,
                 "font": {"size": 14, "color": THEME_TEXT}}
        if name in ("x1", "x2"):  # from the left edge, so a long number is never cut off
            label.update(x=_X_RANGE[0] + 0.02, xanchor="left",
                         text=f"<b>{name}</b> = {num(values[name])}")
        else:
            activation = output if name == "Y" else hidden
            label["text"] = _node_text(name, num(befores[name]), num(values[name]), activation)
            if name == "Y":  # up to the right edge, over the edge from N1 on the page's colour
                label.update(x=_X_RANGE[1] - 0.02, xanchor="right", align="right",
                             bgcolor=THEME_BACKGROUND)
        annotations.append(label)
    if target is not None:
        lines = [_("target = {value}").format(value=num(target))]
        if loss is not None:
            lines.append(f"{loss_name} = {num(loss)}")
        annotations.append({"x": 1.0, "y": 0.0, "xref": "paper", "yref": "paper",
                            "xanchor": "right", "yanchor": "bottom",
                            "text": "<br>".join(lines), "showarrow": False,
                            "font": {"size": 14, "color": THEME_TEXT}, "align": "left",
                            "bordercolor": "#adb5bd", "borderpad": 4,
                            "bgcolor": THEME_BACKGROUND})
    return plain_figure(data, {
        "template": TEMPLATE_SPEC, "height": 420, "margin": {"l": 6, "r": 6, "t": 6, "b": 6},
        "xaxis": {"visible": False, "range": list(_X_RANGE), "fixedrange": True},
        "yaxis": {"visible": False, "range": [-0.42, 1.42], "fixedrange": True},
        "hovermode": "closest", "annotations": annotations, "shapes": edges,
    })
