"""Figures more than one page draws: the loss per step, and a y range that ignores blow-ups.

Every builder of the pages writes its figure as a plain plotly spec (dicts, lists and NumPy
arrays) and returns ``plain_figure(...)``: see there why the figures skip plotly's validation.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.basevalidators import is_homogeneous_array
from _plotly_utils.utils import is_skipped_key, plotlyjsShortTypes, to_typed_array_spec

from ui.common.i18n import _
from ui.common.style import TEMPLATE_SPEC, THEME_MUTED, color_for


def plain_figure(data: list[dict], layout: dict, frames: list[dict] | None = None) -> go.Figure:
    """A ``go.Figure`` of a finished spec, built without plotly's per-property validation.

    Validation is where a page's server time went: the forward page's diagram took ~60 ms per
    build with ``go.Scatter`` and ``add_annotation`` (every call validates again) and takes
    ~2 ms as one unvalidated spec; the digit page's figures ~165 ms per rerun, now ~11 ms
    (benchmarks/bench_figures.py, 2 busy cores). Both send the same JSON: ``st.plotly_chart``
    only calls ``.to_dict()`` on a figure, it does not validate it.

    So the spec must already be what plotly would send. Nested dicts are kept exactly as
    written: use plotly's real property names (``{"title": {"text": ...}}``, ``{"marker":
    {"line": {"color": ...}}}``, no "magic underscore" keys like ``line_color`` there), leave
    out a value rather than writing ``None``, give every trace its ``"type"``, and resolve
    names that only validation resolves: a template (``style.TEMPLATE_SPEC``) and a colorscale
    (``colorscale()``); plotly.js knows no template names and draws some colorscales of the same
    name differently. NumPy arrays are fine (sent as typed arrays); NaN in a float array is a
    gap in a line. A layout without ``"template"`` gets plotly's default one, as a validated
    figure does. Animation ``frames`` are kept aside unvalidated too (``PlainFigure``).

    The tests validate every builder's spec instead: ``go.Figure(fig.to_dict())`` must accept
    it and send the same JSON.

    A heatmap's colour bar gets its room on the right here (``COLORBAR_ROOM``), for every
    builder: given less, plotly grows the margin and then draws the whole chart a second time.
    """
    margin = layout.get("margin")
    if margin is not None and margin.get("r", 0) < COLORBAR_ROOM and _shows_colorbar(data):
        layout = {**layout, "margin": {**margin, "r": COLORBAR_ROOM}}
    return PlainFigure(data, layout, frames)


class PlainFigure(go.Figure):
    """The figure ``plain_figure`` makes: a finished spec that Streamlit sends as it is.

    Streamlit only calls ``to_dict()`` on a figure, and plotly's ``to_dict`` deep-copies the
    figure and re-encodes every array on each call, after ``go.Figure(...)`` has made an object
    of every trace even with validation off: ~40 ms of the forward page's rerun and ~45 ms per
    rerun of the descent page's cached walk figure, in every session (profile_server.py). So
    ``to_dict`` here encodes the arrays once (``encoded``: the spec's own dicts are shared
    where no array is below them) and keeps the result: every rerun and session that shows the same
    (cached) figure sends the same dict, so treat it as read-only. The frames are kept aside
    as given (plotly validates frames even with ``_validate=False``: ~60 ms a rerun for the
    descent page's ~100 frames). Anything else (``fig.data``, ``fig.layout``, ``update_*``)
    first builds the plotly figure, unvalidated, so tests and callers see a normal figure."""

    def __init__(self, data: list[dict], layout: dict, frames: list[dict] | None = None) -> None:
        self._plain_data, self._plain_layout = data, layout
        self._plain_frames = frames or []
        self._sent: dict | None = None
        self._built = False  # go.Figure.__init__ not run yet (see __getattr__)

    def __getattr__(self, name: str):
        """Only reached for attributes the object lacks: before the plotly figure is built,
        build it (unvalidated) and look again; afterwards a missing attribute is missing."""
        if self.__dict__.get("_built", True):
            raise AttributeError(name)
        self._built = True
        go.Figure.__init__(self, {"data": self._plain_data, "layout": self._plain_layout},
                           _validate=False)
        self._sent = None  # the figure may now be changed through plotly's API
        return getattr(self, name)

    def to_dict(self) -> dict:
        """The spec Streamlit sends: data, layout (arrays as plotly's base64 typed arrays) and
        the frames as given; made once and kept (see the class)."""
        if self._built:  # changed or inspected through plotly's API: its own dict
            out = super().to_dict()
            if self._plain_frames:
                out["frames"] = self._plain_frames
            return out
        if self._sent is None:
            layout = {key: value for key, value in self._plain_layout.items()
                      if key != "template"}
            # a template holds no arrays: shared, not walked; the layout is a copy already
            out = {"data": encoded(self._plain_data), "layout": encoded(layout)}
            out["layout"]["template"] = self._plain_layout.get("template") or _default_template()
            if self._plain_frames:
                out["frames"] = self._plain_frames
            self._sent = out
        return self._sent

    def with_traces(self, traces: Mapping[int, dict]) -> PlainFigure:
        """This figure with the traces at some indices replaced by ``traces`` ({index: spec}),
        sharing the rest of the dict it sends (encoded once).

        For a figure redrawn often with little changed: the descent page's surface, whose balls
        move with the step slider while the surface and the paths (15 KB of typed arrays, their
        copy and encoding ~1 ms of every step) stay as they are."""
        return _WithTraces(self, dict(traces))


class _WithTraces(PlainFigure):
    """``PlainFigure.with_traces``: the base figure's sent dict with some traces swapped."""

    def __init__(self, base: PlainFigure, traces: dict[int, dict]) -> None:
        data = list(base._plain_data)
        for index, trace in traces.items():
            data[index] = trace
        super().__init__(data, base._plain_layout, base._plain_frames)
        self._base, self._traces = base, traces

    def to_dict(self) -> dict:
        if self._built:
            return super().to_dict()
        if self._sent is None:
            sent = self._base.to_dict()
            data = list(sent["data"])
            for index, trace in self._traces.items():
                data[index] = encoded(trace)
            self._sent = {**sent, "data": data}
        return self._sent


def encoded(spec: Any) -> Any:
    """``spec`` with its NumPy arrays as plotly's typed arrays, as plotly's ``convert_to_base64``
    converts them, made without changing ``spec``: only the dicts, lists and tuples on the way
    to an array are copied, everything else is shared (so treat the result as read-only).

    plotly's walk calls ``is_homogeneous_array`` on every value of the spec and itself on every
    item of every list, and encodes each array through ``copy_to_readonly_numpy_array`` (~50 µs
    of narwhals and pandas checks for a 300-point array, whose base64 takes 3 µs): 0.8 ms for
    the descent page's surface figure, redrawn on each step. Here a value is only tested when
    it could be an array (it has ``__array__``: NumPy arrays and scalars, pandas), only dicts,
    lists and tuples are walked into (nothing else holds an array), and ``typed_array``
    encodes plain numeric arrays directly (tests/ui/test_figures.py compares the two). Copying
    the whole spec first and converting in place walked everything twice: the descent page's
    walk figure has a slider of ~100 steps and no array in its layout, 1.5 ms of its 2.5 ms
    ``to_dict``."""
    if isinstance(spec, dict):
        out = None
        for key, value in spec.items():
            if isinstance(value, dict | list | tuple):
                if is_skipped_key(key):
                    continue
                new = encoded(value)
            elif hasattr(value, "__array__") and not is_skipped_key(key) \
                    and is_homogeneous_array(value):
                new = typed_array(value)
            else:
                continue
            if new is not value:
                if out is None:
                    out = dict(spec)
                out[key] = new
        return spec if out is None else out
    if isinstance(spec, list | tuple):
        out = None
        for i, value in enumerate(spec):
            if isinstance(value, dict | list | tuple):
                new = encoded(value)
                if new is not value:
                    if out is None:
                        out = list(spec)
                    out[i] = new
        if out is None:
            return spec
        return out if isinstance(spec, list) else type(spec)(out)
    return spec


def typed_array(value: object) -> object:
    """plotly's ``to_typed_array_spec``: a NumPy array of a type plotly.js reads (float32/64,
    8-32 bit integers) as ``{"dtype", "bdata"[, "shape"]}`` of its C-ordered bytes, encoded
    here; any other value (64-bit integers, which plotly narrows first, pandas, empty arrays)
    through plotly's own function."""
    if type(value) is np.ndarray and value.size and value.dtype.isnative:
        short = plotlyjsShortTypes.get(value.dtype.name)
        if short is not None:
            out = {"dtype": short,
                   "bdata": base64.b64encode(np.ascontiguousarray(value)).decode("ascii")}
            if value.ndim > 1:
                out["shape"] = str(value.shape)[1:-1]
            return out
    return to_typed_array_spec(value)


@cache
def _default_template() -> dict:
    """plotly's default template as the JSON spec a figure without one would send."""
    return go.Figure().to_dict()["layout"]["template"]


@cache
def _colorscale(name: str) -> tuple[tuple[float, str], ...]:
    scale = go.Heatmap(colorscale=name).colorscale
    return tuple((float(v), str(c)) for v, c in scale)


# The right margin a heatmap's colour bar (thickness 10) and its tick labels take, as plotly
# measures them in Chromium (57-74 px on the playground's pages): ``plain_figure`` gives it to
# every figure that shows one (tests/e2e/test_e2e_pages.py checks every chart's margins).
COLORBAR_ROOM = 76


def _shows_colorbar(data: list[dict]) -> bool:
    """Whether a trace of ``data`` draws its own colour bar: a heatmap or contour whose
    ``showscale`` is not off (plotly's default is on). A shared colour axis's bars are the
    layout's; its figure makes room for them itself (``ui.digits.figures``)."""
    return any(trace.get("type") in ("heatmap", "contour") and trace.get("showscale", True)
               for trace in data)


def colorscale(name: str) -> list[list[float | str]]:
    """A named plotly colorscale ('Viridis', 'gray_r') as the [[value, colour], ...] list that
    validation would send: plotly.js does not know Python's names (and its 'RdBu' differs)."""
    return [[v, c] for v, c in _colorscale(name)]


def gaps(values: np.ndarray) -> np.ndarray:
    """A float copy of ``values`` (flattened) with NaN for non-finite values: plotly draws a gap."""
    values = np.array(values, float).ravel()
    values[~np.isfinite(values)] = np.nan
    return values


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


def vline(x: float, line: dict, annotation_text: str | None = None) -> tuple[dict, dict | None]:
    """A full-height vertical line at ``x`` as ``fig.add_vline`` draws it: (shape, label or
    None), the label at the top right of the line."""
    shape = {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1,
             "yref": "y domain", "line": line}
    if annotation_text is None:
        return shape, None
    return shape, {"showarrow": False, "text": annotation_text, "x": x, "xanchor": "left",
                   "xref": "x", "y": 1, "yanchor": "top", "yref": "y domain"}


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
    data, annotations, shapes = [], [], []
    floor = 1e-16  # a loss of exactly 0 has no logarithm: draw it at the floor
    for i, (label, losses) in enumerate(series.items()):
        values = np.asarray(losses, float)
        stop = diverged_at.get(label)
        if stop is not None:
            finite = np.flatnonzero(~np.isfinite(values))
            end = min(stop + 1, int(finite[0]) if finite.size else len(values))
            values = values[:max(end, 1)]
        shown = np.maximum(values, floor) if log_y else values
        data.append({
            "type": "scatter", "x": np.arange(len(values)), "y": gaps(shown), "mode": "lines",
            "name": label, "line": {"color": color_for(i), "width": 2},
            "hovertemplate": label + "<br>" + _("step {x}: loss = {y}").format(
                x="%{x}", y="%{y:.6g}") + "<extra></extra>",
        })
        if stop is not None and len(values):
            annotations.append({
                "x": len(values) - 1,
                "y": math.log10(max(float(shown[-1]), floor)) if log_y else float(shown[-1]),
                "text": _("{name}: diverged").format(name=label), "showarrow": True,
                "arrowhead": 2,
                "font": {"color": color_for(i)}})
    if step is not None:
        shape, label = vline(step, {"dash": "dot", "color": THEME_MUTED},
                             _("step {n}").format(n=step))
        shapes.append(shape)
        annotations.append(label)
    layout = {
        "template": TEMPLATE_SPEC, "height": height,
        "title": {"text": title, "x": 0.0, "xanchor": "left"},
        # room for the loss's ticks and title, the steps' title and a legend row per series
        # below, from the start: plotly grows a margin too small for them and then draws the
        # chart a second time (tests/e2e)
        "margin": {"l": 72, "r": 16, "t": 50 if title else 30, "b": 52 + 16 * len(series)},
        "legend": {"orientation": "h", "y": -0.25, "x": 0.0}, "hovermode": "x unified",
        "xaxis": {"title": {"text": _("step")}},
        "yaxis": {"title": {"text": _("loss")}, "type": "log" if log_y else "linear"},
    }
    if annotations:
        layout["annotations"] = annotations
    if shapes:
        layout["shapes"] = shapes
    return plain_figure(data, layout)
