"""How every page shows a plotly chart: a PNG download in the mode bar, the app's light or dark
theme, and charts that let a phone's page scroll.

Why a phone needs its own settings (measured in Chromium at 390×844 with touch swipes, see
tests/e2e/test_e2e_phone.py): plotly.js calls ``preventDefault`` on a touch that starts on a 2D
chart unless the layout's ``dragmode`` is false (fixed axes are not enough), and the 3D surface's
WebGL canvas swallows every ``touchmove`` whatever its settings, so a student swiping over a chart
got stuck on it. On a touch device the 2D charts therefore get ``dragmode: false`` (a tap still
shows the hover numbers), and the 3D surface ignores touches unless the student switches
'Turn the surface with a finger' on. A touch device is told by its User-Agent, the only thing
the server knows about the browser: phones and Android tablets say 'Mobile', 'Android',
'iPhone' or 'iPad' there.
"""

from __future__ import annotations

import re
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ui.common.figures import PlainFigure
from ui.common.i18n import _

TOUCH_AGENT = re.compile(r"Mobi|Android|iPhone|iPad|iPod", re.IGNORECASE)
TOUCH_STATE_KEY = "charts_touch_device"  # on_touch_device's answer, kept per session
PNG_SCALE = 2  # the downloaded PNG has twice the chart's pixels: sharp on a slide or handout


def on_touch_device() -> bool:
    """True when the browser's User-Agent is a phone's or a tablet's (False without one).

    Read once per session and kept in its state: a session is one browser tab, whose
    User-Agent does not change, and ``st.context.headers`` builds the headers anew on every
    read (~0.05 ms, for each of the digit page's eight charts on every stroke)."""
    state = st.session_state
    touch = state.get(TOUCH_STATE_KEY)
    if touch is None:
        agent = st.context.headers.get("User-Agent", "") or ""
        touch = state[TOUCH_STATE_KEY] = bool(TOUCH_AGENT.search(agent))
    return touch


def chart_config(name: str) -> dict[str, Any]:
    """The plotly.js config of a chart: a mode bar with only 'Download plot as PNG', saving
    ``name``.png (letters, digits, '-' and '_' only) at PNG_SCALE× the chart's size."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"a chart's file name takes letters, digits, '-' and '_', got {name!r}")
    return {
        "displaylogo": False,
        "modeBarButtons": [["toImage"]],
        "toImageButtonOptions": {"format": "png", "filename": name, "scale": PNG_SCALE},
    }


class _NoDrag(PlainFigure):
    """A figure sent with ``layout.dragmode = false``, leaving the original untouched (some
    figures are cached and shared between sessions, and a plain figure keeps the dict it
    sends): a new top-level dict and layout around the figure's own data."""

    def __init__(self, figure: go.Figure) -> None:
        super().__init__([], {})
        self._figure = figure

    def to_dict(self) -> dict:
        out = self._figure.to_dict()
        return {**out, "layout": {**out.get("layout", {}), "dragmode": False}}


def show(figure: go.Figure, name: str, *, where: Any = None, key: str | None = None,
         surface: bool = False, **kwargs: Any) -> Any:
    """``st.plotly_chart`` (or ``where.plotly_chart`` for a column) with the app's theme and
    ``chart_config(name)``; on a touch device without drag, so that swipes scroll the page.

    ``surface``: the chart is a 3D scene; on a touch device a toggle above it decides whether
    a finger turns it (on) or scrolls the page (off, the default). It needs a ``key``.
    """
    where = st if where is None else where
    if on_touch_device():
        if surface:
            if key is None:
                raise ValueError("a 3D chart needs a key for its touch toggle")
            rotate = where.toggle(_("Turn the surface with a finger"), key=key + "_touch",
                                  help=_("Off: a swipe over the surface scrolls the page."))
            if not rotate:
                # The chart goes into a container whose class the style names: a style-only
                # st.html is kept by the page after the toggle is switched on, the container is
                # not, so the rule then matches nothing.
                scroll = f"{key}_scrolls"
                where.html(f"<style>.st-key-{scroll} .gl-container, .st-key-{scroll} "
                           ".gl-container * {pointer-events: none !important}</style>")
                where = where.container(key=scroll)
        else:
            figure = _NoDrag(figure)
    return where.plotly_chart(figure, key=key, config=chart_config(name), theme="streamlit",
                              **kwargs)
