"""How charts are shown: the PNG mode bar, the theme's colour placeholders, no drag on phones."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.elements.lib import streamlit_plotly_theme as streamlit_theme

from ui.common import charts, style
from ui.common.figures import loss_step_figure


def test_config_offers_only_a_png_download_named_after_the_chart() -> None:
    config = charts.chart_config("forward-diagram")
    assert config["modeBarButtons"] == [["toImage"]]
    assert config["toImageButtonOptions"]["filename"] == "forward-diagram"
    assert config["toImageButtonOptions"]["format"] == "png"
    assert "displayModeBar" not in config  # shown (on hover), not hidden
    with pytest.raises(ValueError, match="file name"):
        charts.chart_config("a/b")


def test_theme_colours_are_streamlits_placeholders() -> None:
    """st.plotly_chart swaps exactly these for the light or dark theme's colours."""
    assert style.THEME_TEXT == streamlit_theme.GRAY_90
    assert style.THEME_MUTED == streamlit_theme.GRAY_70
    assert style.THEME_BACKGROUND == streamlit_theme.BG_COLOR


def test_no_drag_copy_leaves_the_shared_figure_alone() -> None:
    fig = loss_step_figure({"loss": np.array([3.0, 2.0, 1.0])}, step=1)
    assert "dragmode" not in fig.to_dict()["layout"]
    sent = charts._NoDrag(fig).to_dict()
    assert sent["layout"]["dragmode"] is False
    assert sent["data"][0]["name"] == "loss"
    assert "dragmode" not in fig.to_dict()["layout"]  # the (cached, shared) figure unchanged


@pytest.mark.parametrize(("agent", "touch"), [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 Mobile", True),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile", True),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36", False),
])
def test_touch_devices_are_told_by_their_user_agent(agent: str, touch: bool) -> None:
    assert bool(charts.TOUCH_AGENT.search(agent)) is touch
