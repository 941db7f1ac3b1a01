"""The descent page's figures: the error surface in 3D, and the walk (contour map and loss per
step) that plays, pauses and scrubs in the browser.

Figures are built as plain specs (``ui.common.figures.plain_figure``): plotly's per-property
validation cost tens of milliseconds a rerun; the tests validate the same specs. Paths are
drawn with at most MAX_PATH_POINTS points each, float32 on the wire; the tables keep every
exact number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import plotly.graph_objects as go

from ui.common import i18n  # i18n._: this module uses _ for unused loop values
from ui.common.figures import colorscale, plain_figure
from ui.common.style import (
    MINIMUM_COLOR,
    START_COLOR,
    SURFACE_SCALE,
    TEMPLATE_SPEC,
    THEME_BACKGROUND,
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


MAX_PATH_POINTS = 300  # points drawn per path: enough for a smooth line, a tenth of the bytes
MAX_FRAMES = 100  # animation frames over the whole walk (play, pause and scrub in the browser)


def display_indices(count: int, limit: int = MAX_PATH_POINTS) -> np.ndarray:
    """Which of a path's ``count`` points to draw: all when few, else ``limit`` evenly spread
    ones that always include the first and the last (the tables keep every exact number)."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, limit).round().astype(int))


def frame_steps(steps: int, limit: int = MAX_FRAMES) -> list[int]:
    """The steps the animation stops at: 0, evenly spread ones, and the last."""
    return sorted({int(s) for s in np.linspace(0, steps, min(steps, limit) + 1).round()})


def _nan_gaps(values: np.ndarray) -> np.ndarray:
    """Float copy with ±inf as NaN: plotly draws NaN as a gap, and JSON has no infinity."""
    out = np.asarray(values, float).copy()
    out[~np.isfinite(out)] = np.nan
    return out


def _path_traces(paths: Sequence[PathTrace], w_range: tuple[float, float],
                 ) -> list[tuple[PathTrace, int, int, np.ndarray]]:
    """Per path: the path, how many points to draw, how many lie inside the plot, and the
    indices of the points to draw (``display_indices``)."""
    out = []
    for path in paths:
        count = drawn_count(path, w_range)
        inside = count if path.diverged_at is None else max(
            min(inside_count(path.weights, w_range), count), 1)
        out.append((path, count, inside, display_indices(count)))
    return out


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
    """The error surface z (r, r) over w1 (r,) x w2 (r,) in 3D, each path drawn on it and its
    ball at ``step`` (the page's step slider; None: the last step)."""
    return SurfaceScene(w1, w2, z, paths, start=start, minimum=minimum, height=height).at(step)


LEGEND_ROW = 28  # px a wrapped row of the surface's legend adds (measured at 390 px wide)


class SurfaceScene:
    """The 3D surface with its paths, built once, and its balls at any step (``at``).

    The step slider moves only the balls: the page builds the scene once per run and each
    step swaps the balls into it (``PlainFigure.with_traces``), so the surface and the paths
    are neither rebuilt nor encoded again while a student scrubs."""

    def __init__(self, w1: np.ndarray, w2: np.ndarray, z: np.ndarray,
                 paths: Sequence[PathTrace] = (), *,
                 start: tuple[float, float, float] | None = None,
                 minimum: tuple[float, float, float] | None = None, height: int = 560,
                 legend_rows: int = 1) -> None:
        """``legend_rows``: the rows the legend below the scene takes (2 on a phone, where
        "start", "minimum" and the course's two paths wrap), so that its margin holds it."""
        if legend_rows < 1:
            raise ValueError(f"legend_rows must be at least 1, got {legend_rows}")
        w_range = (float(np.min(w1)), float(np.max(w1)))
        zmin, zmax = float(np.nanmin(z)), float(np.nanmax(z))
        self._lift = lift = 0.01 * (zmax - zmin or 1.0)  # paths float just above the surface
        data: list[dict] = [{
            "type": "surface", "x": w1, "y": w2, "z": np.asarray(z, np.float32),
            "colorscale": colorscale(SURFACE_SCALE), "opacity": 0.88, "showscale": False,
            "name": i18n._("loss"),
            "hovertemplate": "w1 = %{x:.3f}<br>w2 = %{y:.3f}<br>"
                             + i18n._("loss = {value}").format(value="%{z:.4g}")
                             + "<extra></extra>",
            "contours": {"z": {"show": True, "usecolormap": True, "project": {"z": True},
                               "width": 1}},
        }]
        # one ball per path: (its trace's index, the path, its points inside the plot, colour)
        self._balls: list[tuple[int, PathTrace, int, str]] = []
        shown = _path_traces(paths, w_range)
        for i, (path, _, inside, _) in reversed(list(enumerate(shown))):  # the first on top
            keep = display_indices(inside)
            w, loss = path.weights[keep], _nan_gaps(path.losses[keep])
            color, label = color_for(i), path.label
            data.append(
                {"type": "scatter3d", "x": w[:, 0].astype(np.float32),
                 "y": w[:, 1].astype(np.float32), "z": (loss + lift).astype(np.float32),
                 "mode": "lines", "name": label, "legendgroup": label, "legendrank": i + 1,
                 "line": {"color": color, "width": 6},
                 "hovertemplate": f"{label}<br>w1 = %{{x:.4f}}<br>w2 = %{{y:.4f}}<extra></extra>"})
            self._balls.append((len(data), path, inside, color))
            data.append(self._ball(path, None, inside, color))
        for point, color, label, symbol in ((start, START_COLOR, i18n._("start"), "circle"),
                                            (minimum, MINIMUM_COLOR, i18n._("minimum"),
                                             "diamond")):
            if point is not None:
                data.append({"type": "scatter3d", "x": [point[0]], "y": [point[1]],
                             "z": [point[2] + lift], "mode": "markers", "name": label,
                             "marker": {"size": 7, "color": color, "symbol": symbol,
                                        "line": {"color": "black", "width": 1}}})
        axis = {"range": list(w_range), "backgroundcolor": THEME_BACKGROUND}
        layout = {
            "template": TEMPLATE_SPEC, "height": height,
            # the legend below the scene takes 18 px a row: room for it from the start, or
            # plotly grows the margin and draws the scene again (tests/e2e/test_e2e_pages.py;
            # on a phone 20 -> 48 px, tests/e2e/test_e2e_phone.py)
            "margin": {"l": 0, "r": 0, "t": 10, "b": 20 + LEGEND_ROW * (legend_rows - 1)},
            "uirevision": "surface", "legend": {"orientation": "h", "y": 0.02, "x": 0.0},
            "scene": {
                "xaxis": {**axis, "title": {"text": "w1"}},
                "yaxis": {**axis, "title": {"text": "w2"}},
                "zaxis": {"range": [zmin, zmax + 2 * lift], "title": {"text": i18n._("loss")}},
                "aspectmode": "manual", "aspectratio": {"x": 1, "y": 1, "z": 0.7},
                "camera": {"eye": {"x": -1.5, "y": -1.5, "z": 1.1}}, "uirevision": "surface",
            },
        }
        self._figure = plain_figure(data, layout)

    def _ball(self, path: PathTrace, step: int | None, inside: int, color: str) -> dict:
        """A path's ball at ``step`` (None: its last point inside the plot)."""
        k = _current(path, step, inside)
        text = i18n._("diverged") if path.diverged_at is not None and k == inside - 1 else ""
        label = path.label
        return {"type": "scatter3d", "x": [float(path.weights[k, 0])],
                "y": [float(path.weights[k, 1])], "z": [float(path.losses[k]) + self._lift],
                "mode": "markers+text", "text": [text], "textposition": "top center",
                "showlegend": False, "legendgroup": label,
                "marker": {"size": 6, "color": color, "line": {"color": "white", "width": 2}},
                "hovertemplate": i18n._("{label}, step {n}").format(label=label, n=k)
                                 + "<br>w = (%{x:.4f}, %{y:.4f})<extra></extra>"}

    def at(self, step: int | None) -> go.Figure:
        """The figure with every ball at ``step`` (None: the last step)."""
        return self._figure.with_traces({index: self._ball(path, step, inside, color)
                                         for index, path, inside, color in self._balls})


# Room for what plotly places around the walk's plots (the axes' ticks and titles, the legend
# above), as it measures them in Chromium on a laptop and on a phone, in either language. Plotly
# grows a margin too small for them and then draws the whole figure a second time: with 10 px
# all round the walk took ~270 ms to draw in Chromium here, ~100 ms with these
# (tests/e2e/test_e2e_pages.py checks that the drawn margins are these). A legend wrapped onto a
# third row (a narrower column) still grows the top one.
WALK_MARGIN = MappingProxyType({"l": 80, "r": 25, "t": 85, "b": 70})


def walk_figure(
    w1: np.ndarray,
    w2: np.ndarray,
    z: np.ndarray,
    paths: Sequence[PathTrace] = (),
    *,
    steps: int,
    start: tuple[float, float] | None = None,
    minimum: tuple[float, float] | None = None,
    log_y: bool = True,
    height: int = 820,
) -> go.Figure:
    """The surface z (r, r) from above as contour lines with every path, the loss per step
    below, and a play button and slider that walk each path's two balls in the browser.

    Each animation frame only moves the balls (two one-point traces per path), so playing and
    scrubbing cost the server nothing and redraw without plotly's full redraw.
    """
    w_range = (float(np.min(w1)), float(np.max(w1)))
    floor = 1e-16  # a loss of exactly 0 has no logarithm: draw it at the floor
    data: list[dict] = [{
        "type": "contour", "x": w1, "y": w2, "z": np.asarray(z, np.float32),
        "colorscale": colorscale(SURFACE_SCALE), "showscale": False, "ncontours": 24,
        "line": {"width": 0.5}, "opacity": 0.85, "name": i18n._("loss"),
        "contours": {"coloring": "heatmap", "showlabels": True,
                     "labelfont": {"size": 10, "color": "white"}},
        "hovertemplate": "w1 = %{x:.3f}<br>w2 = %{y:.3f}<br>"
                         + i18n._("loss = {value}").format(value="%{z:.4g}") + "<extra></extra>",
    }]
    annotations: list[dict] = []
    shown = _path_traces(paths, w_range)
    for i, (path, _, inside, keep) in reversed(list(enumerate(shown))):  # the first on top
        color, label = color_for(i), path.label
        w, loss = path.weights[keep].astype(np.float32), _nan_gaps(path.losses[keep])
        y = np.maximum(loss, floor) if log_y else loss
        line = {"color": color, "width": 2.5}
        data += [
            {"type": "scatter", "x": w[:, 0], "y": w[:, 1], "mode": "lines", "name": label,
             "legendgroup": label, "legendrank": i + 1, "line": line,
             "hovertemplate": f"{label}<br>w = (%{{x:.4f}}, %{{y:.4f}})<extra></extra>"},
            {"type": "scatter", "x": keep, "y": y.astype(np.float32), "mode": "lines",
             "name": label, "legendgroup": label, "showlegend": False, "line": line,
             "xaxis": "x2", "yaxis": "y2",
             "hovertemplate": label + "<br>" + i18n._("step {x}: loss = {y}").format(
                 x="%{x}", y="%{y:.4~g}") + "<extra></extra>"},
        ]
        if path.diverged_at is not None:
            last = path.weights[inside - 1]
            annotations.append({"x": float(last[0]), "y": float(last[1]),
                                "text": "<b>" + i18n._("{name}: diverged").format(name=label)
                                        + "</b>", "showarrow": True,
                                "arrowhead": 2, "ax": 30, "ay": -30, "font": {"color": color},
                                "bgcolor": THEME_BACKGROUND})
    for point, color, name, symbol, size in (
            (start, START_COLOR, i18n._("start"), "circle", 14),
            (minimum, MINIMUM_COLOR, i18n._("minimum"), "star", 18)):
        if point is not None:
            data.append({"type": "scatter", "x": [point[0]], "y": [point[1]], "mode": "markers",
                         "name": name, "marker": {"size": size, "color": color,
                                                  "symbol": symbol,
                                                  "line": {"color": "black", "width": 1}}})
    first_ball = len(data)
    last = [inside - 1 for _, _, inside, _ in shown]
    for i, (path, _, _, _) in enumerate(shown):
        data += _balls(path, last[i], color_for(i), log_y)
    at = frame_steps(steps)
    moves = [_ball_moves(path, np.minimum(at, end), log_y)
             for (path, _, _, _), end in zip(shown, last, strict=True)]
    balls = tuple(range(first_ball, first_ball + 2 * len(shown)))  # tuples: see _ball_moves
    frames = [{"name": str(s), "traces": balls,
               "data": tuple(ball for path_moves in moves for ball in path_moves[j])}
              for j, s in enumerate(at)]
    still = {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
             "transition": {"duration": 0}}
    layout = {
        "template": TEMPLATE_SPEC, "height": height, "uirevision": "walk",
        "margin": dict(WALK_MARGIN), "hovermode": "closest",
        "legend": {"orientation": "h", "y": 1.02, "x": 0.0, "yanchor": "bottom"},
        "xaxis": {"domain": [0.0, 1.0], "anchor": "y", "range": list(w_range),
                  "title": {"text": "w1"}, "constrain": "domain"},
        "yaxis": {"domain": [0.42, 1.0], "anchor": "x", "range": list(w_range),
                  "title": {"text": "w2"}, "scaleanchor": "x", "scaleratio": 1,
                  "constrain": "domain"},
        "xaxis2": {"domain": [0.0, 1.0], "anchor": "y2", "title": {"text": i18n._("step")},
                   "range": [0, max(steps, 1)]},
        "yaxis2": {"domain": [0.0, 0.24], "anchor": "x2", "title": {"text": i18n._("loss")},
                   "type": "log" if log_y else "linear", "exponentformat": "power",
                   **(decade_ticks([p.losses for p in paths], floor) if log_y else {})},
        "updatemenus": [{
            # one above the other, so that the slider beside them keeps its label in sight
            # on a phone too (side by side they covered it)
            "type": "buttons", "direction": "down", "showactive": False, "x": 0.0, "y": 0.385,
            "xanchor": "left", "yanchor": "top", "pad": {"t": 0, "r": 10},
            "buttons": [
                {"label": "▶ " + i18n._("Play"), "method": "animate",
                 "args": [None, {**still, "frame": {"duration": 80, "redraw": False},
                                 "fromcurrent": True}]},
                {"label": "⏸ " + i18n._("Pause"), "method": "animate",
                 "args": [[None], still]},
            ]}],
        "sliders": [{
            "active": len(at) - 1, "x": 0.36, "len": 0.64, "y": 0.37, "yanchor": "top",
            "pad": {"t": 0, "b": 0},
            "currentvalue": {"prefix": i18n._("step") + " ", "visible": True},
            "steps": [{"label": str(s), "method": "animate", "args": ((str(s),), still)}
                      for s in at]}],
    }
    if annotations:  # plotly drops an empty list: leave it out so the specs agree
        layout["annotations"] = annotations
    return plain_figure(data, layout, frames)


MAX_TICKS = 6  # labels on the log loss axis: more overlap on its 200-pixel height


def decade_ticks(losses: Sequence[np.ndarray], floor: float) -> dict:
    """Ticks of a logarithmic loss axis over every path's losses (k+1,): whole powers of ten,
    at most MAX_TICKS of them (every 2nd, 3rd... decade when the losses span many), written
    10^k. Plotly's own labels used SI prefixes (1p, 10n, 100μ) and crowded each other."""
    values = [np.asarray(v, float) for v in losses]
    values = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    if values.size == 0:
        return {}
    values = np.maximum(values, floor)
    low, high = (int(np.floor(np.log10(values.min()))), int(np.ceil(np.log10(values.max()))))
    high = max(high, low + 1)
    every = max(1, -(-(high - low) // (MAX_TICKS - 1)))
    powers = list(range(high, low - 1, -every))[::-1]
    return {"tickmode": "array", "tickvals": [10.0 ** k for k in powers],
            "ticktext": [f"10<sup>{k}</sup>" if k not in (0, 1) else str(10 ** k)
                         for k in powers]}


def _ball_moves(path: PathTrace, ks: np.ndarray, log_y: bool) -> list[tuple[dict, dict]]:
    """One path's two balls at each step of ``ks`` (n,): on the map and on the loss chart, only
    their positions, rounded to 6 significant digits (what an animation frame needs: plotly
    merges a frame's trace into the one it moves, which already has its type and axes; they
    were 12 KB of a 92 KB figure, sent with every full rerun of the page). Built
    from one fancy index and Python floats: formatting NumPy scalars one by one cost ~10× more,
    and a walk figure has ~100 frames (1.80 → 1.12 ms a figure of two paths). Tuples, not
    lists (the same JSON): the server keeps 32 walk figures (``state.cached_walk``), and
    Python's garbage collector stops tracking a tuple or dict of numbers and strings (these
    balls), where it walks every list on each full collection (~1,200 lists a figure before;
    ui/common/server_memory.py)."""
    w1, w2 = path.weights[ks, 0].tolist(), path.weights[ks, 1].tolist()
    loss = _nan_gaps(path.losses[ks])  # JSON has no infinity: a gap
    y = (np.maximum(loss, 1e-16) if log_y else loss).tolist()  # a log axis has no 0
    return [({"x": (float(f"{a:.6g}"),), "y": (float(f"{b:.6g}"),)},
             {"x": (k,), "y": (float(f"{c:.6g}"),)})
            for a, b, c, k in zip(w1, w2, y, ks.tolist(), strict=True)]


def _balls(path: PathTrace, k: int, color: str, log_y: bool) -> list[dict]:
    """One path's two balls at step ``k`` as the figure first draws them: markers in
    ``color``, with the path's label on hover (the frames then only move them)."""
    on_map, on_loss = _ball_moves(path, np.array([k]), log_y)[0]
    ball = {"color": color, "line": {"color": "white", "width": 2}}
    hover = f"{path.label}<extra></extra>"
    return [{"type": "scatter", **on_map, "mode": "markers", "showlegend": False,
             "legendgroup": path.label, "marker": {**ball, "size": 13}, "hovertemplate": hover},
            {"type": "scatter", **on_loss, "xaxis": "x2", "yaxis": "y2", "mode": "markers",
             "showlegend": False, "legendgroup": path.label, "marker": {**ball, "size": 9},
             "hovertemplate": hover}]
