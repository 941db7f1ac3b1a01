"""Plotly figures for the "Draw a digit" page: arrays in, ``go.Figure`` out (no Streamlit here).

Feature maps and filters are drawn as one *mosaic* heatmap per layer (every channel a tile, NaN
gaps between tiles) instead of one subplot per channel: a single trace is fast to build and to
send to the browser even for 128 channels. Each builder writes its figure as a plain spec
(``ui.common.figures.plain_figure``: no per-property validation, 7-60× faster to build).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import plotly.graph_objects as go

from ui.common.figures import colorscale, plain_figure
from ui.common.i18n import N_, _

PAGE_WIDTH = 900  # px: the width the page's figures are laid out for (height follows from it)
INK_COLORSCALE = "gray_r"  # MNIST as printed: white paper, black ink
MAP_COLORSCALE = "Viridis"
WEIGHT_COLORSCALE = "RdBu"
_MARGIN = MappingProxyType({"l": 10, "r": 10, "t": 40, "b": 10})


MAX_TILE_PX = 90  # a map is drawn at most this wide, however few channels its layer has


def grid_columns(channels: int) -> int:
    """How many tiles per row for ``channels`` maps: one row up to 16, then 16 or 32 wide."""
    if channels < 1:
        raise ValueError(f"channels must be at least 1, got {channels}")
    if channels <= 16:
        return channels
    return 16 if channels <= 64 else 32


def mosaic_width(columns: int, tile: int, gap: int = 1) -> int:
    """Figure width (px) for ``columns`` tiles of ``tile`` px: page-wide, tiles ≤ MAX_TILE_PX."""
    natural = columns * (tile + gap) - gap
    return int(min(PAGE_WIDTH, natural * MAX_TILE_PX / tile))


def mosaic(maps: np.ndarray, columns: int | None = None, gap: int = 1,
           fill: float = np.nan) -> tuple[np.ndarray, np.ndarray]:
    """Tile maps (h, w, c) into one (rows*(h+gap)-gap, cols*(w+gap)-gap) float32 image.

    Returns (image, channel): ``channel`` gives each pixel's channel index (-1 in the gaps and
    in unused tiles), ``fill`` (NaN by default: transparent in plotly) fills the gaps.
    """
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (h, w, channels), got {maps.shape}")
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    h, w, c = maps.shape
    cols = grid_columns(c) if columns is None else columns
    if cols < 1:
        raise ValueError(f"columns must be at least 1, got {cols}")
    image = _tiled(np.moveaxis(maps, 2, 0), cols, gap, fill, np.float32)
    return image, _channel_grid(h, w, c, cols, gap)


def _tiled(stack: np.ndarray, cols: int, gap: int, fill: float, dtype: type) -> np.ndarray:
    """Tiles (c, h, w) as one image, ``cols`` a row, ``gap`` pixels of ``fill`` between them
    and in unused tiles: one copy and a reshape, no loop over the channels."""
    c, h, w = stack.shape
    rows = math.ceil(c / cols)
    tiles = np.full((rows * cols, h + gap, w + gap), fill, dtype)
    tiles[:c, :h, :w] = stack
    image = tiles.reshape(rows, cols, h + gap, w + gap).transpose(0, 2, 1, 3)
    image = image.reshape(rows * (h + gap), cols * (w + gap))
    return np.ascontiguousarray(image[:rows * (h + gap) - gap, :cols * (w + gap) - gap])


@functools.lru_cache(maxsize=64)
def _channel_grid(h: int, w: int, c: int, cols: int, gap: int) -> np.ndarray:
    """Each pixel's channel index in ``mosaic``'s image (-1 in the gaps and unused tiles):
    the same for every drawing, so made once, read-only."""
    index = np.broadcast_to(np.arange(c, dtype=np.int16)[:, None, None], (c, h, w))
    grid = _tiled(index, cols, gap, -1, np.int16)
    grid.flags.writeable = False
    return grid


# The right margin of the feature maps' colour bars on a shared scale (one per layer: the
# widest tick labels decide; plotly grew the margin to 96-107 px for a drawn digit, then drew
# the whole chart again on every stroke).
MAPS_COLORBAR_ROOM = 110


def normalize_channels(maps: np.ndarray) -> np.ndarray:
    """Scale every channel of (h, w, c) to [0, 1] on its own (a constant channel becomes 0)."""
    maps = np.asarray(maps, np.float32)
    low = maps.min(axis=(0, 1), keepdims=True)
    span = maps.max(axis=(0, 1), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0).astype(np.float32)


def _image_layout(shape: tuple[int, int], title: str, width: int = PAGE_WIDTH,
                  min_height: int = 120, max_height: int = 900) -> dict:
    """Square pixels, row 0 at the top, no axes; height from the image's aspect ratio."""
    rows, cols = shape
    height = int(np.clip(width * rows / max(cols, 1) + _MARGIN["t"] + _MARGIN["b"],
                         min_height, max_height))
    return {
        "xaxis": {"visible": False, "constrain": "domain"},
        "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x", "scaleratio": 1,
                  "constrain": "domain"},
        "title": {"text": title, "font": {"size": 15}}, "height": height, "margin": dict(_MARGIN),
        "plot_bgcolor": "rgba(0,0,0,0)", "paper_bgcolor": "rgba(0,0,0,0)",
    }


def input_image_figure(image: np.ndarray,
                       title: str | None = None) -> go.Figure:
    """The (28, 28) input in [0, 1] as a grey heatmap, dark = ink; hover shows pixel values."""
    image = np.asarray(image, np.float32)
    if image.shape != (28, 28):
        raise ValueError(f"expected a (28, 28) image, got {image.shape}")
    return plain_figure(
        [{"type": "heatmap", "z": image, "zmin": 0, "zmax": 1,
          "colorscale": colorscale(INK_COLORSCALE), "showscale": False,
          "hovertemplate": _("row {row}, col {col}: {value}").format(
              row="%{y}", col="%{x}", value="%{z:.2f}") + "<extra></extra>"}],
        _image_layout(image.shape, _("What the network sees (28×28)") if title is None
                      else title, width=260, min_height=200, max_height=300))


def probability_figure(probs: Sequence[float] | np.ndarray) -> go.Figure:
    """Bar chart of the ten class probabilities (10,), the most likely digit highlighted."""
    probs = np.asarray(probs, np.float64).reshape(-1)
    if probs.shape != (10,):
        raise ValueError(f"expected 10 probabilities, got shape {probs.shape}")
    best = int(np.argmax(probs))
    colors = ["#ff4b4b" if d == best else "#8fa8c8" for d in range(10)]
    return plain_figure(
        [{"type": "bar", "x": [str(d) for d in range(10)], "y": probs, "marker": {"color": colors},
          "text": [f"{p:.0%}" if p >= 0.005 else "" for p in probs], "textposition": "outside",
          "cliponaxis": False, "hovertemplate": _("digit {digit}: {p}").format(
              digit="%{x}", p="%{y:.4f}") + "<extra></extra>"}],
        {"title": {"text": _("Probability of each digit"), "font": {"size": 15}}, "height": 280,
         # room for the percentages and the axes' titles from the start (plotly grew 40/40 to
         # 81/65, then drew the chart again: a second pass on every stroke)
         "margin": {"l": 84, "r": 10, "t": 40, "b": 68},
         "xaxis": {"title": {"text": _("digit")}, "type": "category"},
         "yaxis": {"title": {"text": _("probability")}, "range": [0, 1.12],
                   "tickformat": ".0%"}})


MAP_MIN_PX, MAP_MAX_PX = 70, 850  # the height a layer's mosaic is drawn at, at least / at most
MAP_TITLE_PX = 34  # room above each layer's mosaic for its title


def ascii_text(text: str) -> str:
    """``text`` in ASCII: every other character as an HTML character reference ('×' ->
    '&#215;', 'к' -> '&#1082;'), which plotly.js turns back into the character in titles,
    annotations and hover labels.

    For the feature maps, which a stroke redraws and sends: one '×' in a title or one
    Cyrillic letter in the hover made the whole 290 KB of JSON a non-ASCII string, and plotly's
    ``to_json`` (its HTML escaping walks the string five times), Streamlit's hash of the spec
    and the protobuf's copy of it then cost ~1 ms more per stroke."""
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def feature_map_trace(maps: np.ndarray, per_channel: bool = False,
                      columns: int | None = None) -> tuple[dict, tuple[int, int], int]:
    """One layer's output (h, w, c) as a mosaic heatmap trace, every channel a tile.

    Returns (trace, the mosaic's (rows, cols) in pixels, the width in px it is drawn at).
    ``per_channel`` scales each map to its own [0, 1] (shows weak channels; the hover then
    reads each raw value from ``customdata``); otherwise ``z`` holds the raw values and all maps
    share the layer's scale (shows which channels respond most).
    """
    maps = np.asarray(maps, np.float32)
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (h, w, channels), got {maps.shape}")
    shown = normalize_channels(maps) if per_channel else maps
    cols = grid_columns(maps.shape[2]) if columns is None else columns
    image, channel = mosaic(shown, cols)
    trace = {"type": "heatmap", "z": image, "hoverongaps": False}
    if per_channel:  # the colours are scaled: the hover needs each raw value beside its channel
        raw, _grid = mosaic(maps, cols)
        trace.update(customdata=np.stack([channel.astype(np.float32), raw], axis=-1),
                     hovertemplate=ascii_text(_("channel {channel}<br>value {value}")).format(
                         channel="%{customdata[0]}", value="%{customdata[1]:.3f}"))
    else:  # z holds the raw values: the hover needs only the channel, one byte a pixel (a
        # stroke sent 750 KB with each channel index and value as float32, 320 KB so)
        trace.update(customdata=channel.astype(np.int8 if maps.shape[2] <= 128 else np.int16),
                     hovertemplate=ascii_text(_("channel {channel}<br>value {value}")).format(
                         channel="%{customdata}", value="%{z:.3f}"))
    trace["hovertemplate"] += "<extra></extra>"
    return trace, image.shape, mosaic_width(cols, maps.shape[1])


def feature_maps_figure(layers: Sequence[tuple[np.ndarray, str]],
                        per_channel: bool = False) -> go.Figure:
    """Every conv/pool layer's output, one (maps (h, w, c), title) each, as ONE figure: each
    layer's mosaic (``feature_map_trace``) below the previous one, under its title, with its
    own colour scale and (on a shared scale) its own colour bar. On a narrow screen a mosaic
    shrinks toward its title (``constraintoward``), not to the middle of its band.

    One chart for all layers rather than one chart and one caption per layer: a stroke redraws
    this section, and every element of it is built, hashed and sent by Streamlit on its own,
    ~0.5 ms each whatever its size (benchmarks/loadtest.py, /digits): five charts and five
    captions were ~4.5 ms of a stroke's ~23 ms of server CPU.
    """
    if not layers:
        raise ValueError("no layer to draw")
    traces, boxes = [], []
    for i, (maps, title) in enumerate(layers, start=1):
        trace, (rows, cols), width = feature_map_trace(maps, per_channel)
        suffix = "" if i == 1 else str(i)
        traces.append({**trace, "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
                       "coloraxis": f"coloraxis{suffix}"})
        boxes.append((title, int(np.clip(width * rows / max(cols, 1), MAP_MIN_PX, MAP_MAX_PX))))
    plot_px = sum(MAP_TITLE_PX + height for _title, height in boxes)
    layout = {"height": plot_px + 20,
              "margin": {"l": 10, "r": 10 if per_channel else MAPS_COLORBAR_ROOM, "t": 10,
                         "b": 10},
              "plot_bgcolor": "rgba(0,0,0,0)", "paper_bgcolor": "rgba(0,0,0,0)",
              "annotations": []}
    below = 0  # px of the plot area above the current mosaic
    for i, (title, height) in enumerate(boxes, start=1):
        suffix = "" if i == 1 else str(i)
        below += MAP_TITLE_PX
        top, bottom = 1 - below / plot_px, 1 - (below + height) / plot_px
        below += height
        layout[f"xaxis{suffix}"] = {"visible": False, "constrain": "domain",
                                    "anchor": f"y{suffix}", "domain": [0.0, 1.0]}
        layout[f"yaxis{suffix}"] = {"visible": False, "autorange": "reversed",
                                    "scaleanchor": f"x{suffix}", "scaleratio": 1,
                                    "constrain": "domain", "constraintoward": "top",
                                    "anchor": f"x{suffix}", "domain": [bottom, top]}
        axis = {"colorscale": colorscale(MAP_COLORSCALE), "showscale": not per_channel,
                "colorbar": {"thickness": 10, "len": 0.9 * (top - bottom),
                             "y": (top + bottom) / 2, "yanchor": "middle"}}
        if per_channel:
            axis.update(cmin=0, cmax=1)
        layout[f"coloraxis{suffix}"] = axis
        layout["annotations"].append({
            "text": ascii_text(title), "font": {"size": 15}, "showarrow": False, "xref": "paper",
            "yref": "paper", "x": 0.5, "xanchor": "center", "y": top, "yanchor": "bottom",
            "yshift": 4})
    return plain_figure(traces, layout)


def filter_figure(kernel: np.ndarray, title: str | None = None) -> go.Figure:
    """The first Conv2D's kernels (k, k, 1, f) as f small tiles, blue = negative, red = positive."""
    kernel = np.asarray(kernel, np.float32)
    if kernel.ndim != 4:
        raise ValueError(f"kernel must have shape (k, k, in_channels, filters), got {kernel.shape}")
    _k, _k2, cin, f = kernel.shape
    maps = kernel.mean(axis=2) if cin > 1 else kernel[:, :, 0, :]
    cols = grid_columns(f)
    image, channel = mosaic(maps, cols)
    limit = float(np.nanmax(np.abs(image))) or 1.0
    width = min(mosaic_width(cols, maps.shape[1]), 50 * cols)  # 3×3 filters: ~45 px tiles
    return plain_figure(
        [{"type": "heatmap", "z": image, "customdata": channel,
          "colorscale": colorscale(WEIGHT_COLORSCALE), "reversescale": True, "zmin": -limit,
          "zmax": limit, "hoverongaps": False, "colorbar": {"thickness": 10, "len": 0.8},
          "hovertemplate": _("filter {filter}<br>weight {weight}").format(
              filter="%{customdata}", weight="%{z:.3f}") + "<extra></extra>"}],
        _image_layout(image.shape, _("First layer's learned filters") if title is None
                      else title, width=max(width, 300), max_height=500))


def dense_figure(values: np.ndarray, title: str) -> go.Figure:
    """A dense layer's activations (units,) as bars: which neurons fire for this drawing."""
    values = np.asarray(values, np.float32).reshape(-1)
    return plain_figure(
        [{"type": "bar", "x": np.arange(values.size), "y": values,
          "marker": {"color": "#4c78a8"},
          "hovertemplate": _("neuron {neuron}: {value}").format(
              neuron="%{x}", value="%{y:.3f}") + "<extra></extra>"}],
        {"title": {"text": title, "font": {"size": 15}}, "height": 220, "bargap": 0.05,
         "margin": {"l": 40, "r": 10, "t": 40, "b": 30},
         "xaxis": {"title": {"text": _("neuron")}},
         "yaxis": {"title": {"text": _("activation")}}})


_CURVE_STYLE = MappingProxyType({
    "loss": (N_("train"), "#1f77b4", "solid"), "val_loss": (N_("validation"), "#ff7f0e", "dash"),
    "accuracy": (N_("train"), "#1f77b4", "solid"),
    "val_accuracy": (N_("validation"), "#ff7f0e", "dash")})
METRIC_NAMES = MappingProxyType({"loss": N_("loss"), "accuracy": N_("accuracy")})


def training_curves_figure(history: Mapping[str, Sequence[float]],
                           live: Mapping[str, Sequence[float]] | None = None) -> go.Figure:
    """Loss and accuracy per epoch, train and validation, side by side (history as Keras's).

    ``live`` = {"x": epochs as fractions (k,), "loss": (k,), "accuracy": (k,)}: the running
    epoch means sampled while a job trains, drawn as a thin line so the curve moves each second.
    """
    axes = ({"xaxis": "x", "yaxis": "y"}, {"xaxis": "x2", "yaxis": "y2"})  # loss, accuracy
    data = []
    if live is not None and len(live.get("x", [])):
        for key, col in (("loss", 1), ("accuracy", 2)):
            data.append({
                "type": "scatter", "x": [float(v) for v in live["x"]],
                "y": [float(v) for v in live[key]], "mode": "lines",
                "name": _("train (running)"),
                "legendgroup": "running", "line": {"color": "#9ecae1", "width": 1.5},
                "showlegend": col == 1,
                "hovertemplate": _("running {metric}: {value}").format(
                    metric=_(METRIC_NAMES[key]), value="%{y:.4f}") + "<extra></extra>",
                **axes[col - 1]})
    for key, (english, color, dash) in _CURVE_STYLE.items():
        name = _(english)
        values = [float(v) for v in history.get(key, []) or []]
        if not values:
            continue
        col = 1 if key.endswith("loss") else 2
        data.append({
            "type": "scatter", "x": np.arange(1, len(values) + 1), "y": values, "name": name,
            "mode": "lines+markers", "line": {"color": color, "dash": dash},
            "legendgroup": name, "showlegend": col == 1,
            "hovertemplate": _("{curve} {metric}: {value} (epoch {epoch})").format(
                curve=name, metric=_(METRIC_NAMES[key.replace("val_", "")]), value="%{y:.4f}",
                epoch="%{x}") + "<extra></extra>", **axes[col - 1]})
    # the two side-by-side subplots as make_subplots(1, 2, horizontal_spacing=0.1) lays them out
    subtitle = {"font": {"size": 16}, "showarrow": False, "xanchor": "center", "xref": "paper",
                "y": 1.0, "yanchor": "bottom", "yref": "paper"}
    epoch = {"title": {"text": _("epoch")}, "rangemode": "tozero"}
    return plain_figure(data, {
        "xaxis": {"anchor": "y", "domain": [0.0, 0.45], **epoch},
        "yaxis": {"anchor": "x", "domain": [0.0, 1.0], "rangemode": "tozero"},
        "xaxis2": {"anchor": "y2", "domain": [0.55, 1.0], **epoch},
        "yaxis2": {"anchor": "x2", "domain": [0.0, 1.0], "tickformat": ".1%"},
        "annotations": [{**subtitle, "text": _("Loss"), "x": 0.225},
                        {**subtitle, "text": _("Accuracy"), "x": 0.775}],
        # the legend below the epochs takes 85 px: room for it from the start, one pass
        "height": 300, "margin": {"l": 50, "r": 10, "t": 40, "b": 85},
        "legend": {"orientation": "h", "y": -0.25},
    })


def confusion_figure(matrix: np.ndarray | Sequence[Sequence[int]]) -> go.Figure:
    """The (10, 10) confusion matrix, rows = true digit, columns = predicted, counts written in."""
    matrix = np.asarray(matrix, np.int64)
    if matrix.shape != (10, 10):
        raise ValueError(f"expected a (10, 10) confusion matrix, got {matrix.shape}")
    off = matrix.copy()
    np.fill_diagonal(off, 0)  # colour the mistakes: the diagonal would swamp the scale
    labels = [str(d) for d in range(10)]
    return plain_figure(
        [{"type": "heatmap", "z": np.log1p(off), "x": labels, "y": labels, "text": matrix,
          "texttemplate": "%{text}", "colorscale": colorscale("Reds"), "showscale": False,
          "hovertemplate": _("true {true}, predicted {predicted}: {count}").format(
              true="%{y}", predicted="%{x}", count="%{text}") + "<extra></extra>"}],
        {"title": {"text": _("Confusion matrix (test set)"), "font": {"size": 15}},
         # room for the axes' titles and digits from the start (plotly grew 60/50 to 66/72)
         "height": 460, "margin": {"l": 70, "r": 10, "t": 40, "b": 75},
         "xaxis": {"title": {"text": _("predicted digit")}, "type": "category",
                   "side": "bottom"},
         "yaxis": {"title": {"text": _("true digit")}, "type": "category",
                   "autorange": "reversed", "scaleanchor": "x"}})


def mistakes_figure(images: np.ndarray, true: Sequence[int], predicted: Sequence[int],
                    columns: int = 8) -> go.Figure:
    """A gallery of misread test digits (n, 28, 28), each titled "true → predicted"."""
    images = np.asarray(images, np.float32)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"images must have shape (n, 28, 28), got {images.shape}")
    if not len(images) == len(true) == len(predicted):
        raise ValueError("images, true and predicted must have the same length")
    if len(images) == 0:
        raise ValueError("no mistakes to show")
    if images.max() > 1:
        images = images / 255
    label_gap = 9  # rows above each tile for its caption
    cols = min(columns, len(images))
    tiles = np.full((28 + label_gap, 28, len(images)), np.nan, np.float32)
    tiles[label_gap:] = images.transpose(1, 2, 0)
    image, _grid = mosaic(tiles, cols, gap=2)
    annotations = []
    for i, (t, p) in enumerate(zip(true, predicted, strict=True)):
        r, q = divmod(i, cols)
        annotations.append({"x": q * 30 + 13.5, "y": r * (28 + label_gap + 2) + 4,
                            "showarrow": False, "text": f"{int(t)} → <b>{int(p)}</b>",
                            "font": {"size": 12}})
    layout = _image_layout(image.shape, _("Test digits it gets wrong (true → predicted)"),
                           width=min(PAGE_WIDTH, 95 * cols))
    return plain_figure(
        [{"type": "heatmap", "z": image, "zmin": 0, "zmax": 1,
          "colorscale": colorscale(INK_COLORSCALE), "showscale": False, "hoverinfo": "skip"}],
        {**layout, "annotations": annotations})
