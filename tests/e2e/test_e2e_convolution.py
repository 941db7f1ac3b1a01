"""Convolution page in Chromium: moving the kernel with its sliders updates the nine products
and their sum to what nn_core computes, with no error on the page."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from nn_core.cnn.convolution import get_kernel, patch, position_value, products
from nn_core.cnn.digits import load_mnist
from tests.e2e.e2e_support import App
from ui.common.format import approx

pytestmark = pytest.mark.e2e

SUM = "Sum of the 9 products + bias"


@pytest.fixture(scope="module")
def digit_1024() -> np.ndarray:
    """Lesson 002's test digit as the page reads it: (28, 28) float32 in [0, 1]."""
    _, (x_test, _) = load_mnist()
    return x_test[1024].astype(np.float32) / 255


def shown_products(page: Page) -> np.ndarray:
    """The numbers plotly drew in the step figure's third panel (the products), (3, 3)."""
    chart = page.locator(".st-key-conv_step_figure .js-plotly-plot")
    z = chart.evaluate("el => Array.from(el._fullData[2].z, row => Array.from(row))")
    return np.array(z, dtype=np.float64)


def centre_hover(page: Page) -> str:
    """The hover label plotly draws over the middle cell of the step figure's first panel
    (the patch's pixel (1, 1)): the panel's centre, hovered with the mouse."""
    chart = page.locator(".st-key-conv_step_figure .js-plotly-plot")
    chart.locator(".draglayer .xy .nsewdrag").first.hover()
    label = chart.locator(".hoverlayer .hovertext").first
    expect(label).to_be_visible()
    return " ".join(label.text_content().split())


def move(page: Page, slider: Locator, key: str, times: int = 1) -> None:
    """Move a slider with the keyboard, as a student can (one step per key press)."""
    slider.focus()
    for _ in range(times):
        page.keyboard.press(key)


def test_moving_the_kernel_updates_the_products_and_the_sum(app: App, page: Page,
                                                            digit_1024: np.ndarray) -> None:
    app.open(page, "convolution")
    kernel = get_kernel("vertical_edge").astype(np.float32)
    total = app.metric(page, SUM)
    expect(total).to_have_text(approx(position_value(digit_1024, kernel, 10, 10)))
    np.testing.assert_allclose(shown_products(page), products(digit_1024, kernel, 10, 10),
                               rtol=1e-6)
    pixel = float(patch(digit_1024, 10, 10, 3)[1, 1])  # 0.9019608: hovered as 0.902
    assert centre_hover(page) == f"row 1, col 1: pixel {approx(pixel)}" == \
        "row 1, col 1: pixel 0.902"
    page.mouse.move(0, 0)

    move(page, page.get_by_role("slider", name="Kernel column (left edge)"), "ArrowRight", 2)
    expect(total).to_have_text(approx(position_value(digit_1024, kernel, 10, 12)))
    app.wait_idle(page)
    np.testing.assert_allclose(shown_products(page), products(digit_1024, kernel, 10, 12),
                               rtol=1e-6)

    move(page, page.get_by_role("slider", name="Kernel row (top edge)"), "ArrowRight")
    expected = approx(position_value(digit_1024, kernel, 11, 12))
    expect(total).to_have_text(expected)
    app.wait_idle(page)
    np.testing.assert_allclose(shown_products(page), products(digit_1024, kernel, 11, 12),
                               rtol=1e-6)
    expect(page.locator(".katex").filter(has_text=expected).first).to_be_visible()  # Σ = …
    app.assert_no_errors(page)
    app.shot(page, "convolution-moved")
