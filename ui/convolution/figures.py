"""The convolution page's figures: arrays in, plotly figures out (no Streamlit here).

Images are heatmaps with row 0 at the top and square pixels, as the digit page draws them; a
rectangle marks where the kernel (or the pooling window) sits. Weights and feature maps use a
diverging scale centred on 0 (blue positive, orange negative, as on the forward page), so a
negative response looks different from a positive one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.common.format import short
from ui.common.i18n import N_, _
from ui.common.style import NEGATIVE, POSITIVE, TEMPLATE, THEME_TEXT
from ui.digits.figures import mosaic

INK_COLORSCALE = "gray_r"  # MNIST as printed: white paper, black ink
DIVERGING = ((0.0, NEGATIVE), (0.5, "#f8f9fa"), (1.0, POSITIVE))  # orange - white - blue
MARK = "#e03131"  # the kernel's (or window's) outline: the playground's red
WINNER = "#fab005"
CHANNEL_SCALES = ("Reds", "Greens", "Blues")
CHANNEL_NAMES = (N_("red"), N_("green"), N_("blue"))
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def _limit(values: np.ndarray) -> float:
    """The symmetric colour range ±limit of the finite values (1 when all are 0 or NaN)."""
    finite = np.asarray(values, np.float64)
    finite = finite[np.isfinite(finite)]
    return float(np.max(np.abs(finite))) if finite.size and np.any(finite) else 1.0


def _square(fig: go.Figure, title: str, height: int) -> go.Figure:
    """Square pixels, row 0 at the top, no axes (each subplot's y tied to its own x); a title
    and a fixed height."""
    fig.update_xaxes(visible=False, constrain="domain")
    for name in [n for n in fig.layout if n.startswith("yaxis")]:
        if fig.layout[name].range is None:
            fig.layout[name].autorange = "reversed"
        fig.layout[name].update(visible=False, scaleanchor="x" + name[len("yaxis"):],
                                scaleratio=1, constrain="domain")
    fig.update_layout(template=TEMPLATE, title={"text": title, "font": {"size": 14}},
                      height=height, margin=dict(_MARGIN), plot_bgcolor="rgba(0,0,0,0)",
                      paper_bgcolor="rgba(0,0,0,0)")
    return fig


def _outline(fig: go.Figure, row: int, col: int, size: int, color: str = MARK,
             **where: int) -> None:
    """A rectangle around the size×size pixels whose top-left one is (row, col)."""
    fig.add_shape(type="rect", x0=col - 0.5, x1=col + size - 0.5, y0=row - 0.5,
                  y1=row + size - 0.5, line={"color": color, "width": 3}, **where)


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
    fig = go.Figure(go.Heatmap(z=image, zmin=0, zmax=1, colorscale=INK_COLORSCALE,
                               showscale=False,
                               hovertemplate=_("row {row}, col {col}: {value}").format(
                                   row="%{y}", col="%{x}", value="%{z:.4f}")
                               + "<extra></extra>"))
    _outline(fig, row, col, size)
    return _square(fig, _("Input image (28×28)") if title is None else title, height)


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
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.06,
                        subplot_titles=(_("patch (pixels)"), "× " + _("kernel (weights)"),
                                        "= " + _("products")))
    for i, (values, what) in enumerate(zip(arrays, (_("pixel"), _("weight"), _("product")),
                                           strict=True)):
        ink = i == 0
        limit = _limit(values)
        fig.add_trace(go.Heatmap(
            z=values, text=_text(values), texttemplate="%{text}", textfont={"size": 13},
            colorscale=INK_COLORSCALE if ink else list(DIVERGING), zmin=0 if ink else -limit,
            zmax=1 if ink else limit, showscale=False,
            hovertemplate=_cell_hover(hover, what)),
            row=1, col=i + 1)
    fig = _square(fig, "", height)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


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
    fig = go.Figure(go.Heatmap(
        z=values, colorscale=list(DIVERGING), zmin=-limit, zmax=limit, hoverongaps=False,
        colorbar={"thickness": 10, "len": 0.8},
        hovertemplate=_cell_hover(hover)))
    fig.update_xaxes(range=[-0.5, values.shape[1] - 0.5])
    fig.update_yaxes(range=[values.shape[0] - 0.5, -0.5])
    fig.add_shape(type="rect", x0=-0.5, x1=values.shape[1] - 0.5, y0=-0.5,
                  y1=values.shape[0] - 0.5, line={"color": "#adb5bd", "width": 1, "dash": "dot"})
    if mark is not None:
        _outline(fig, mark[0], mark[1], size)
    return _square(fig, title, height)


def block_figure(block: np.ndarray, winner: tuple[int, int] | None, title: str,
                 height: int = 220, hover: str = HOVER) -> go.Figure:
    """The pooling window's block (s, s) with its numbers (hovered in the d3 format
    ``hover``); the max (``winner``) outlined."""
    block = np.asarray(block, np.float64)
    limit = _limit(block)
    fig = go.Figure(go.Heatmap(
        z=block, text=_text(block, 4), texttemplate="%{text}", textfont={"size": 15},
        colorscale=list(DIVERGING), zmin=-limit, zmax=limit, showscale=False,
        hovertemplate=_cell_hover(hover)))
    if winner is not None:
        _outline(fig, winner[0], winner[1], 1, WINNER)
    return _square(fig, title, height)


def rgb_figure(image: np.ndarray, row: int, col: int, size: int = 3,
               title: str | None = None, height: int = 300) -> go.Figure:
    """An RGB image (H, W, 3) in [0, 1] as it looks, the kernel's window outlined."""
    image = np.asarray(image, np.float64)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    pixels = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
    fig = go.Figure(go.Image(z=pixels, hovertemplate=_("row {row}, col {col}").format(
        row="%{y}", col="%{x}") + "<br>RGB %{z}<extra></extra>"))
    _outline(fig, row, col, size)
    return _square(fig, _("Colour image") if title is None else title, height)


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
    titles = [f"{names[c]}: {what}" for c in range(channels)
              for what in (_("patch"), _("weights"), _("products"))]
    fig = make_subplots(rows=channels, cols=3, horizontal_spacing=0.06, vertical_spacing=0.1,
                        subplot_titles=titles)
    for c in range(channels):
        for i, values in enumerate(a[c] for a in arrays):
            pixels = i == 0
            limit = _limit(values)
            fig.add_trace(go.Heatmap(
                z=values, text=_text(values), texttemplate="%{text}", textfont={"size": 12},
                colorscale=CHANNEL_SCALES[c % 3] if pixels else list(DIVERGING),
                zmin=0 if pixels else -limit, zmax=1 if pixels else limit, showscale=False,
                hovertemplate=_cell_hover(hover)),
                row=c + 1, col=i + 1)
    fig = _square(fig, "", height)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


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
    raw, _grid = mosaic(tiles, min(columns, f), gap=1)
    limit = 1.0 if per_filter else _limit(kernel)
    fig = go.Figure(go.Heatmap(
        z=image, customdata=np.stack([channel.astype(np.float64), raw], axis=-1),
        colorscale=list(DIVERGING), zmin=-limit, zmax=limit, hoverongaps=False,
        showscale=not per_filter, colorbar={"thickness": 10, "len": 0.8},
        hovertemplate=_("filter {filter}<br>weight {weight}").format(
            filter="%{customdata[0]}", weight="%{customdata[1]:.4f}") + "<extra></extra>"))
    cols = min(columns, f)
    for i in range(f):
        r, q = divmod(i, cols)
        fig.add_annotation(x=q * (k + 1) + (k - 1) / 2, y=r * (k + 1) - 0.5, yshift=6,
                           text=str(i), showarrow=False, font={"size": 10, "color": THEME_TEXT})
    rows = -(-f // cols)
    return _square(fig, title, height or 90 + 75 * rows)


def channel_figure(images: Sequence[np.ndarray], titles: Sequence[str],
                   height: int = 140) -> go.Figure:
    """Colour channels (each (H, W) in [0, 1]) side by side, each in its own colour."""
    fig = make_subplots(rows=1, cols=len(images), subplot_titles=list(titles),
                        horizontal_spacing=0.04)
    for i, image in enumerate(images):
        fig.add_trace(go.Heatmap(z=np.asarray(image, np.float64), zmin=0, zmax=1,
                                 colorscale=CHANNEL_SCALES[i % 3], showscale=False,
                                 hovertemplate=_("row {row}, col {col}: {value}").format(
                                     row="%{y}", col="%{x}", value="%{z:.3f}")
                                 + "<extra></extra>"),
                      row=1, col=i + 1)
    fig = _square(fig, "", height)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig
