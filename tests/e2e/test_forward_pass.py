"""Forward pass page in Chromium: the lesson's Y = 1.8263, and Y follows a weight typed in."""

from __future__ import annotations

import pytest
from e2e_support import App
from playwright.sync_api import Page, expect

from nn_core import defaults
from nn_core.network import forward_pass

pytestmark = pytest.mark.e2e


def shown(value: float) -> str:
    """How the page's metrics write a number (seven decimals, ui.figures.fixed)."""
    return f"{value:.7f}"


def test_default_shows_the_lessons_numbers(app: App, page: Page) -> None:
    app.open(page, "forward")
    expect(app.metric(page, "Y")).to_have_text("1.8263000")
    expect(app.metric(page, "N1")).to_have_text("2.1540000")
    expect(app.metric(page, "N2")).to_have_text("-8.8460000")
    expect(app.number_input(page, "w1 (exact)")).to_have_value("0.42")


def test_typing_weights_updates_y_as_nn_core_computes(app: App, page: Page) -> None:
    app.open(page, "forward")
    weights = list(defaults.FORWARD_WEIGHTS)

    weights[0] = 0.5  # w1, confirmed with Enter
    w1 = app.number_input(page, "w1 (exact)")
    w1.fill("0.5")
    w1.press("Enter")
    expected = forward_pass(weights, defaults.FORWARD_INPUTS)
    expect(app.metric(page, "Y")).to_have_text(shown(expected.y))
    expect(app.metric(page, "N1")).to_have_text(shown(expected.n1))
    app.wait_idle(page)

    weights[5] = -0.75  # w6, confirmed by leaving the field with Tab
    w6 = app.number_input(page, "w6 (exact)")
    w6.fill("-0.75")
    w6.press("Tab")
    expected = forward_pass(weights, defaults.FORWARD_INPUTS)
    assert shown(expected.y) != "1.8263000"
    expect(app.metric(page, "Y")).to_have_text(shown(expected.y))
    app.wait_idle(page)
    app.assert_no_errors(page)
    # The slider beside the entry follows the typed value.
    expect(page.get_by_role("slider", name="w6")).to_have_value("-0.75")
    app.shot(page, "forward-edited")
