"""The playground's plot style: colours, palette and template shared by every page's figures."""

from __future__ import annotations

import plotly.io as pio

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
# The template as a plain dict, resolved once: an unvalidated figure (``plain_figure``) sends
# layout.template as given, and plotly.js knows no template names.
TEMPLATE_SPEC = pio.templates[TEMPLATE].to_plotly_json()
SURFACE_SCALE = "Viridis"
# Colours that follow the app's light or dark theme. st.plotly_chart(theme="streamlit") swaps
# these placeholders in a figure's spec for the theme's own colours before plotly.js draws it
# (Streamlit's streamlit_plotly_theme uses them for its template; tests/ui/common/test_charts.py
# checks they are still Streamlit's, tests/e2e/test_e2e_theme.py that they turn dark).
THEME_TEXT = "#000037"  # the body text: near black on light, near white on dark
THEME_MUTED = "#000036"  # grey lines and secondary text
THEME_BACKGROUND = "#000038"  # the page's background (a label's box over lines)


def color_for(index: int) -> str:
    """The palette colour of the ``index``-th curve or path (cycles through PALETTE)."""
    return PALETTE[index % len(PALETTE)]


def sign_color(value: float) -> str:
    """Blue for positive (and zero), orange for negative values."""
    return POSITIVE if value >= 0 else NEGATIVE


def rgba(hex_color: str, alpha: float) -> str:
    """'#1f77b4', 0.5 -> 'rgba(31,119,180,0.5)'."""
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.3f})"
