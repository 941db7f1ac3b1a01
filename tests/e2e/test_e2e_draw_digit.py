"""Draw a digit in Chromium: real mouse strokes on the canvas, the predicted digit, clearing,
and one feature-map grid per convolution and pooling layer."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from nn_core.cnn.specs import layer_shapes
from nn_core.training.runs import DEFAULT_MODEL_DIR, load_run
from tests.e2e.e2e_support import App

pytestmark = pytest.mark.e2e


def prediction(page: Page) -> Locator:
    """The predicted digit as the page shows it (the 'Prediction' metric)."""
    return App.prediction(page)


def ask(page: Page) -> Locator:
    """The message that asks for a drawing."""
    return App.asks_for_drawing(page)


@pytest.mark.screenshots
def test_drawn_digits_are_read_and_clear_asks_for_a_new_drawing(app: App, page: Page) -> None:
    app.open(page, "digits")
    expect(app.canvas(page)).to_be_visible()
    expect(ask(page)).to_be_visible()
    assert app.ink_pixels(page) == 0

    for digit, clear in (("1", "toolbar"), ("0", "button"), ("7", None)):
        app.draw(page, digit)
        expect(prediction(page)).to_have_text(digit)
        app.wait_idle(page)
        app.assert_no_errors(page)
        assert app.ink_pixels(page) > 1000
        expect(page.locator(".st-key-digit_input_image .js-plotly-plot")).to_be_visible()
        app.shot(page, f"digits-{digit}")
        if clear == "toolbar":  # the canvas's own toolbar
            page.get_by_role("button", name="Reset canvas & history").click()
        elif clear == "button":  # the page's button under the canvas
            page.get_by_role("button", name="Clear drawing").click()
        else:
            continue
        expect(ask(page)).to_be_visible()
        app.wait_idle(page)
        expect(prediction(page)).to_have_count(0)
        assert app.ink_pixels(page) == 0

    # The README's picture: the drawing section with the 7 and what the network makes of it.
    page.get_by_role("heading", name="2. Draw a digit").evaluate(
        "el => el.scrollIntoView({block: 'start'})"
    )
    app.shot(page, "digits", readme=True)


def test_the_canvas_is_served_with_its_short_send_delay(app: App, page: Page) -> None:
    """The browser loads the canvas bundle from the app's copy (ui/digits/canvas.py), 30 ms."""
    def is_fast_bundle(response) -> bool:
        return ("/_stcore/bidi-components/nn-playground.drawing_canvas/index-" in response.url
                and response.url.endswith(".js"))

    with page.expect_response(is_fast_bundle) as bundle:
        app.open(page, "digits")
    assert bundle.value.ok
    body = bundle.value.text()
    assert body.count("Bc = 30,") == 1 and "Bc = 200," not in body
    app.draw(page, "1")
    expect(prediction(page)).to_have_text("1")
    app.assert_no_errors(page)


def test_feature_maps_show_one_grid_per_layer(app: App, page: Page) -> None:
    app.open(page, "digits")
    expect(page.get_by_text("The feature maps of every layer appear here")).to_be_visible()
    app.draw(page, "4")
    expect(prediction(page)).to_have_text("4")
    app.wait_idle(page)

    spec = load_run(DEFAULT_MODEL_DIR).spec  # the shipped default model
    layers = [(layer, shape) for layer, shape in zip(spec.layers, layer_shapes(spec), strict=True)
              if layer.kind in ("conv", "maxpool", "avgpool")]  # fmt: skip
    chart = page.locator(".st-key-digit_fmaps")  # one keyed chart: a mosaic per layer
    expect(chart.locator(".js-plotly-plot")).to_be_visible()
    expect(chart.locator(".heatmaplayer .hm")).to_have_count(len(layers))
    titles = chart.locator(".annotation-text")
    expect(titles).to_have_count(len(layers))
    caption = chart.locator("xpath=following-sibling::*[1]")  # the chart's caption, below it
    for i, (_, shape) in enumerate(layers):
        height, width, channels = shape
        expect(titles.nth(i)).to_contain_text(f"{height}×{width}×{channels}")
        expect(caption).to_contain_text(f"{channels} maps of {height}×{width}")
    filters = page.locator(".st-key-digit_filters .js-plotly-plot")
    expect(filters).to_be_visible()
    app.assert_no_errors(page)
    chart.scroll_into_view_if_needed()
    app.shot(page, "digits-feature-maps")
