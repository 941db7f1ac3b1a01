"""The teacher dashboard's figures: what the students tried for a task, the class's confusion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui.common.figures import colorscale, plain_figure
from ui.common.i18n import _


def attempts_figure(name: str, solved: Sequence[float], other: Sequence[float]) -> go.Figure:
    """A histogram of one number over the class's attempts at a task (``name``: lr, w5, …):
    the attempts that solved it and the others, stacked, so the teacher sees where the
    answers lie (the learning rates at which SGD diverged, say). A log axis when the numbers
    are positive and span more than two decades."""
    values = np.asarray([*solved, *other], float)
    log = bool(values.size and (values > 0).all() and values.max() / values.min() > 100)
    def xs(v: Sequence[float]) -> list[float]:
        return np.log10(np.asarray(v, float)).tolist() if log else list(map(float, v))

    data = [{"type": "histogram", "x": xs(solved), "name": _("solved the task"),
             "marker": {"color": "#2ca02c"}, "nbinsx": 20},
            {"type": "histogram", "x": xs(other), "name": _("not (yet)"),
             "marker": {"color": "#9e9e9e"}, "nbinsx": 20}]
    title = _("{name} in the students' attempts").format(name=name)
    return plain_figure(data, {
        # margins that hold the ticks, titles and legend (drawn in Chromium: plotly grew 50/45
        # to 68/65 and drew the chart a second time)
        "barmode": "stack", "height": 260, "margin": {"l": 70, "r": 10, "t": 40, "b": 68},
        "title": {"text": title, "font": {"size": 14}},
        "xaxis": {"title": {"text": f"log10({name})" if log else name}},
        "yaxis": {"title": {"text": _("attempts")}}, "legend": {"orientation": "h", "y": -0.3}})


def class_confusion_figure(matrix: np.ndarray) -> go.Figure:
    """The class's confusion matrix (10, 10): row = the digit meant, column = the digit read;
    the diagonal left uncoloured so the mistakes stand out."""
    matrix = np.asarray(matrix, np.int64)
    if matrix.shape != (10, 10):
        raise ValueError(f"expected a (10, 10) confusion matrix, got {matrix.shape}")
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    labels = [str(d) for d in range(10)]
    hover = _("meant {meant}, read {read}: {n}").format(meant="%{y}", read="%{x}", n="%{text}")
    return plain_figure(
        [{"type": "heatmap", "z": np.log1p(off), "x": labels, "y": labels, "text": matrix,
          "texttemplate": "%{text}", "colorscale": colorscale("Reds"), "showscale": False,
          "hovertemplate": hover + "<extra></extra>"}],
        {"title": {"text": _("The class's drawings: meant vs read"), "font": {"size": 14}},
         # holds the ticks and axis titles (plotly grew 60/50 to 66/72: a second drawing pass)
         "height": 420, "margin": {"l": 70, "r": 10, "t": 40, "b": 75},
         "xaxis": {"title": {"text": _("digit the network read")}, "type": "category"},
         "yaxis": {"title": {"text": _("digit the student meant")}, "type": "category",
                   "autorange": "reversed", "scaleanchor": "x"}})
