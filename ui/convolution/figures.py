"""The convolution page's figures: arrays in, plotly figures out (no Streamlit here).

Images are heatmaps with row 0 at the top and square pixels, as the digit page draws them; a
rectangle marks where the kernel (or the pooling window) sits. Weights and feature maps use a
diverging scale centred on 0 (blue positive, orange negative, as on the forward page), so a
negative response looks different from a positive one.

Every builder writes a plain plotly spec (``ui.common.figures.plain_figure``): with plotly's
per-property validation (``go.Heatmap``, ``update_layout``, ``add_shape``, ``make_subplots``
on every call) the page's first run took ~0.9 s of server CPU, 47% of it in the layout updates
and 42% in validation (py-spy, 8 loads of /convolution). The subplot grids (domains and title
annotations) still come from ``make_subplots``, once per grid and titles (``_grid``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.common.figures import colorscale, plain_figure
from ui.common.format import short
from ui.common.i18n import N_, _
from ui.common.style import NEGATIVE, POSITIVE, TEMPLATE_SPEC, THEME_TEXT
from ui.digits.figures import mosaic

INK_COLORSCALE = "gray_r"  # MNIST as printed: white paper, black ink
DIVERGING = [[0.0, NEGATIVE], [0.5, "#f8f9fa"], [1.0, POSITIVE]]  # orange - white - blue
MARK = "#e03131"  # the kernel's (or window's) outline: the playground's red
WINNER = "#fab005"
CHANNEL_SCALES = ("Reds", "Greens", "Blues")
CHANNEL_NAMES = (N_("red"), N_("green"), N_("blue"))
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
_GRID_MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}  # a grid's titles sit lower than a title


def _limit(values: np.ndarray) -> float:
    """The symmetric colour range ±limit of the finite values (1 when all are 0 or NaN)."""
    finite = np.asarray(values, np.float64)
    finite = finite[np.isfinite(finite)]
    return float(np.max(np.abs(finite))) if finite.size and np.any(finite) else 1.0


@lru_cache(maxsize=64)
def _grid(rows: int, cols: int, titles: tuple[str, ...], horizontal_spacing: float,
          vertical_spacing: float | None) -> dict:
    """The layout ``make_subplots`` makes for a rows×cols grid with these titles: its axes
    (``xaxis``, ``yaxis2``, …: anchor and domain) and the titles' annotations. Built once per
    grid and titles (a language has its own titles); copy before changing."""
    kwargs = {} if vertical_spacing is None else {"vertical_spacing": vertical_spacing}
    layout = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles),
                           horizontal_spacing=horizontal_spacing, **kwargs).to_dict()["layout"]
    layout.pop("template", None)
    return layout


def _cell_axes(row: int, col: int, cols: int) -> dict:
    """The axes a trace in grid cell (row, col) (both from 1) refers to, as add_trace sets
    them: {"xaxis": "x", "yaxis": "y"} for the first cell, "x2"/"y2" for the second, …"""
    n = (row - 1) * cols + col
    suffix = "" if n == 1 else str(n)
    return {"xaxis": "x" + suffix, "yaxis": "y" + suffix}


def _square(data: list[dict], title: str, height: int, layout: dict | None = None,
            margin: dict | None = None) -> go.Figure:
    """Square pixels, row 0 at the top, no axes (each subplot's y tied to its own x); a title
    and a fixed height. ``layout``: the figure's own layout so far (a grid's axes, shapes,
    annotations, axis ranges); a y axis without a range is reversed."""
    layout = {key: (dict(value) if isinstance(value, dict) else value)
              for key, value in (layout or {}).items()}
    layout.setdefault("xaxis", {})
    layout.setdefault("yaxis", {})
    for name in [n for n in layout if n.startswith("xaxis")]:
        layout[name].update(visible=False, constrain="domain")
    for name in [n for n in layout if n.startswith("yaxis")]:
        axis = layout[name]
        if axis.get("range") is None:
            axis["autorange"] = "reversed"
        axis.update(visible=False, scaleanchor="x" + name[len("yaxis"):], scaleratio=1,
                    constrain="domain")
    layout.update(template=TEMPLATE_SPEC, title={"text": title, "font": {"size": 14}},
                  height=height, margin=dict(margin or _MARGIN), plot_bgcolor="rgba(0,0,0,0)",
                  paper_bgcolor="rgba(0,0,0,0)")
    return plain_figure(data, layout)


def _outline(row: int, col: int, size: int, color: str = MARK) -> dict:
    """A rectangle around the size×size pixels whose top-left one is (row, col)."""
    return {"type": "rect", "x0": col - 0.5, "x1": col + size - 0.5, "y0": row - 0.5,
            "y1": row + size - 0.5, "line": {"color": color, "width": 3}}


HOVER = ".6g"  # the d3 format of a hovered value unless the page passes its own ("hover")


def _cell_hover(hover: str = HOVER, what: str = "") -> str:
    """A heatmap cell's hover text: its row, column and value (``hover``: a d3 format, e.g.
    the page's ".4~f" at lesson precision), in the session's language."""
    value = f"{what} %{{z:{hover}}}" if what else f"%{{z:{hover}}}"
    return _("row {row}, col {col}: {value}").format(row="%{y}", col="%{x}",
                                                      value=value) + "<extra></extra>"


def image_figure(image: np.ndarray, row: int, col: int, size: int = 3,
                 title: str | None = None, height: int = 320) -> go.Figure:
    """A grey image (H, W) in [0, 1], dark = ink, with the kernel's size×size window outlined
    at (row, col); hover shows each pixel's value."""
    image = np.asarray(image, np.float64)
    if image.ndim != 2:
        raise ValueError(f"expected a grey image (H, W), got shape {image.shape}")
    trace = {"type": "heatmap", "z": image, "zmin": 0, "zmax": 1,
             "colorscale": colorscale(INK_COLORSCALE), "showscale": False,
             "hovertemplate": _("row {row}, col {col}: {value}").format(
                 row="%{y}", col="%{x}", value="%{z:.4f}") + "<extra></extra>"}
    return _square([trace], _("Input image (28×28)") if title is None else title, height,
                   {"shapes": [_outline(row, col, size)]})


def _text(values: np.ndarray, digits: int = 3) -> list[list[str]]:
    """Each cell's value as short text for inside the heatmap ('' for NaN; rounding noise
    below 1e-12, as 0.9 - 0.9 can leave, as 0)."""
    return [[("" if not np.isfinite(v) else "0" if abs(v) < 1e-12 else short(float(v), digits))
             for v in row] for row in np.asarray(values, np.float64)]


def step_figure(patch: np.ndarray, kernel: np.ndarray, products: np.ndarray,
                height: int = 250, hover: str = HOVER) -> go.Figure:
    """One output pixel: the patch (k, k) under the kernel, the kernel (k, k) and their
    elementwise products (k, k), side by side with every number written in its cell (and
    hovered in the d3 format ``hover``)."""
    arrays = [np.asarray(a, np.float64) for a in (patch, kernel, products)]
    if not arrays[0].shape == arrays[1].shape == arrays[2].shape or arrays[0].ndim != 2:
        raise ValueError("patch, kernel and products must be (k, k) arrays of one shape")
    titles = (_("patch (pixels)"), "× " + _("kernel (weights)"), "= " + _("products"))
    data = []
    for i, (values, what) in enumerate(zip(arrays, (_("pixel"), _("weight"), _("product")),
                                           strict=True)):
        ink = i == 0
        limit = _limit(values)
        data.append({
            "type": "heatmap", "z": values, "text": _text(values), "texttemplate": "%{text}",
            "textfont": {"size": 13},
            "colorscale": colorscale(INK_COLORSCALE) if ink else DIVERGING,
            "zmin": 0 if ink else -limit, "zmax": 1 if ink else limit, "showscale": False,
            "hovertemplate": _cell_hover(hover, what), **_cell_axes(1, i + 1, 3)})
    return _square(data, "", height, _grid(1, 3, titles, 0.06, None), _GRID_MARGIN)


def map_figure(values: np.ndarray, title: str, mark: tuple[int, int] | None = None,
               size: int = 1, limit: float | None = None, height: int = 320,
               hover: str = HOVER) -> go.Figure:
    """A feature map (h, w) on the diverging scale ±``limit`` (its own largest |value| by
    default); NaN cells (not computed yet) stay blank; ``mark`` outlines size×size cells;
    values hovered in the d3 format ``hover``."""
    values = np.asarray(values, np.float64)
    if values.ndim != 2:
        raise ValueError(f"expected a map (h, w), got shape {values.shape}")
    limit = _limit(values) if limit is None else float(limit) or 1.0
    h, w = values.shape
    trace = {"type": "heatmap", "z": values, "colorscale": DIVERGING, "zmin": -limit,
             "zmax": limit, "hoverongaps": False, "colorbar": {"thickness": 10, "len": 0.8},
             "hovertemplate": _cell_hover(hover)}
    shapes = [{"type": "rect", "x0": -0.5, "x1": w - 0.5, "y0": -0.5, "y1": h - 0.5,
               "line": {"color": "#adb5bd", "width": 1, "dash": "dot"}}]
    if mark is not None:
        shapes.append(_outline(mark[0], mark[1], size))
    return _square([trace], title, height, {
        "xaxis": {"range": [-0.5, w - 0.5]}, "yaxis": {"range": [h - 0.5, -0.5]},
        "shapes": shapes})


def block_figure(block: np.ndarray, winner: tuple[int, int] | None, title: str,
                 height: int = 220, hover: str = HOVER) -> go.Figure:
    """The pooling window's block (s, s) with its numbers (hovered in the d3 format
    ``hover``); the max (``winner``) outlined."""
    block = np.asarray(block, np.float64)
    limit = _limit(block)
    trace = {"type": "heatmap", "z": block, "text": _text(block, 4), "texttemplate": "%{text}",
             "textfont": {"size": 15}, "colorscale": DIVERGING, "zmin": -limit, "zmax": limit,
             "showscale": False, "hovertemplate": _cell_hover(hover)}
    layout = {} if winner is None else {"shapes": [_outline(winner[0], winner[1], 1, WINNER)]}
    return _square([trace], title, height, layout)


def rgb_figure(image: np.ndarray, row: int, col: int, size: int = 3,
               title: str | None = None, height: int = 300) -> go.Figure:
    """An RGB image (H, W, 3) in [0, 1] as it looks, the kernel's window outlined."""
    image = np.asarray(image, np.float64)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    pixels = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
    trace = {"type": "image", "z": pixels, "hovertemplate": _("row {row}, col {col}").format(
        row="%{y}", col="%{x}") + "<br>RGB %{z}<extra></extra>"}
    return _square([trace], _("Colour image") if title is None else title, height,
                   {"shapes": [_outline(row, col, size)]})


def channels_figure(patches: np.ndarray, kernel: np.ndarray, products: np.ndarray,
                    height: int = 560, hover: str = HOVER) -> go.Figure:
    """Per channel (one row each: red, green, blue): the patch (C, k, k), its kernel slice
    (C, k, k) and the products (C, k, k) with their numbers (hovered in the d3 format
    ``hover``): the C·k·k multiplications of one output pixel of a colour convolution."""
    arrays = [np.asarray(a, np.float64) for a in (patches, kernel, products)]
    if not arrays[0].shape == arrays[1].shape == arrays[2].shape or arrays[0].ndim != 3:
        raise ValueError("patches, kernel and products must be (C, k, k) arrays of one shape")
    channels = arrays[0].shape[0]
    names = ([_(n) for n in CHANNEL_NAMES] if channels == 3 else
             [_("channel {c}").format(c=c) for c in range(channels)])
    titles = tuple(f"{names[c]}: {what}" for c in range(channels)
                   for what in (_("patch"), _("weights"), _("products")))
    data = []
    for c in range(channels):
        for i, values in enumerate(a[c] for a in arrays):
            pixels = i == 0
            limit = _limit(values)
            data.append({
                "type": "heatmap", "z": values, "text": _text(values),
                "texttemplate": "%{text}", "textfont": {"size": 12},
                "colorscale": colorscale(CHANNEL_SCALES[c % 3]) if pixels else DIVERGING,
                "zmin": 0 if pixels else -limit, "zmax": 1 if pixels else limit,
                "showscale": False, "hovertemplate": _cell_hover(hover),
                **_cell_axes(c + 1, i + 1, 3)})
    return _square(data, "", height, _grid(channels, 3, titles, 0.06, 0.1), _GRID_MARGIN)


def filters_figure(kernel: np.ndarray, title: str, columns: int = 8,
                   height: int | None = None, per_filter: bool = False) -> go.Figure:
    """Filters (k, k, 1, f) as f numbered tiles, diverging colours around 0.

    ``per_filter``: each tile on its own scale (its largest |weight| at full colour), so a
    kernel with one big weight does not wash out the others; the hover shows the weights.
    """
    kernel = np.asarray(kernel, np.float64)
    if kernel.ndim != 4 or kernel.shape[2] != 1:
        raise ValueError(f"expected filters (k, k, 1, f), got shape {kernel.shape}")
    k, f = kernel.shape[0], kernel.shape[3]
    tiles = kernel[:, :, 0, :]
    shown = tiles
    if per_filter:
        peak = np.max(np.abs(tiles), axis=(0, 1), keepdims=True)
        shown = tiles / np.where(peak > 0, peak, 1.0)
    image, channel = mosaic(shown, min(columns, f), gap=1)
    raw, _grid_of = mosaic(tiles, min(columns, f), gap=1)
    limit = 1.0 if per_filter else _limit(kernel)
    trace = {
        "type": "heatmap", "z": image,
        "customdata": np.stack([channel.astype(np.float64), raw], axis=-1),
        "colorscale": DIVERGING, "zmin": -limit, "zmax": limit, "hoverongaps": False,
        "showscale": not per_filter, "colorbar": {"thickness": 10, "len": 0.8},
        "hovertemplate": _("filter {filter}<br>weight {weight}").format(
            filter="%{customdata[0]}", weight="%{customdata[1]:.4f}") + "<extra></extra>"}
    cols = min(columns, f)
    numbers = []
    for i in range(f):
        r, q = divmod(i, cols)
        numbers.append({"x": q * (k + 1) + (k - 1) / 2, "y": r * (k + 1) - 0.5, "yshift": 6,
                        "text": str(i), "showarrow": False,
                        "font": {"size": 10, "color": THEME_TEXT}})
    rows = -(-f // cols)
    return _square([trace], title, height or 90 + 75 * rows, {"annotations": numbers})


def channel_figure(images: Sequence[np.ndarray], titles: Sequence[str],
                   height: int = 140) -> go.Figure:
    """Colour channels (each (H, W) in [0, 1]) side by side, each in its own colour."""
    data = [{"type": "heatmap", "z": np.asarray(image, np.float64), "zmin": 0, "zmax": 1,
             "colorscale": colorscale(CHANNEL_SCALES[i % 3]), "showscale": False,
             "hovertemplate": _("row {row}, col {col}: {value}").format(
                 row="%{y}", col="%{x}", value="%{z:.3f}") + "<extra></extra>",
             **_cell_axes(1, i + 1, len(images))}
            for i, image in enumerate(images)]
    return _square(data, "", height, _grid(1, len(images), tuple(titles), 0.04, None),
                   _GRID_MARGIN)
