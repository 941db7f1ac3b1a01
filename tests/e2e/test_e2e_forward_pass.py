"""Forward pass page in Chromium: the lesson's Y = 1.8263, and Y follows a weight typed in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from nn_core import course
from nn_core.basics.network import Network
from tests.e2e.e2e_support import App

pytestmark = pytest.mark.e2e


def assert_shows(value: Locator, expected: float) -> None:
    """The number on screen is `expected` written to the decimals the page shows."""
    text = value.inner_text().strip()
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert abs(float(text) - expected) <= 0.5 * 10.0**-decimals + 1e-12, (text, expected)


def test_default_shows_the_lessons_numbers(app: App, page: Page) -> None:
    app.open(page, "forward")
    y = app.metric(page, "Y")
    expect(y).to_have_text(re.compile(r"^-?\d"))  # the first run has filled the metrics
    # Lesson 002's worked example, to the lesson's decimals, and exactly what nn_core computes.
    lesson = Network(course.FORWARD_WEIGHTS, course.FORWARD_INPUTS).forward()
    for label, value, decimals, computed in (("Y", 1.8263, 4, lesson.y),
                                             ("N1", 2.154, 3, lesson.n1),
                                             ("N2", -8.846, 3, lesson.n2)):  # fmt: skip
        metric = app.metric(page, label)
        assert round(float(metric.inner_text()), decimals) == value, label
        assert_shows(metric, computed)
    expect(app.number_input(page, "w1 (exact)")).to_have_value("0.42")


def test_typing_weights_updates_y_as_nn_core_computes(app: App, page: Page) -> None:
    app.open(page, "forward")
    y = app.metric(page, "Y")
    weights = list(course.FORWARD_WEIGHTS)

    for name, index, value, key in (("w1", 0, 0.5, "Enter"), ("w6", 5, -0.75, "Tab")):
        before = y.inner_text()
        weights[index] = value
        field = app.number_input(page, f"{name} (exact)")
        field.fill(str(value))
        field.press(key)  # Enter confirms; Tab leaves the field, which confirms too
        expect(y).not_to_have_text(before)
        app.wait_idle(page)
        expected = Network(weights, course.FORWARD_INPUTS).forward()
        assert_shows(y, expected.y)
        assert_shows(app.metric(page, "N1"), expected.n1)
        # The slider beside the entry follows the typed value.
        expect(page.get_by_role("slider", name=name)).to_have_value(str(value))
    app.assert_no_errors(page)
    app.shot(page, "forward-edited")


def test_training_steps_draw_the_loss_history(app: App, page: Page) -> None:
    """Each step of training adds a point to the loss history, a chart drawn in one pass."""
    app.open(page, "forward")
    charts = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')
    expect(charts).to_have_count(1)  # the network's diagram
    for _ in range(3):
        page.get_by_role("button", name="One training step").click()
        app.wait_idle(page)
    expect(charts).to_have_count(2)
    expect(page.get_by_text("3 training steps")).to_be_visible()
    assert app.margins_grown(page) == []  # (index, declared, drawn) of each that grew
    app.assert_no_errors(page)
