"""Draw a digit in Chromium: real mouse strokes on the canvas, the predicted digit, clearing,
and one feature-map grid per convolution and pooling layer."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from nn_core.cnn.specs import layer_shapes
from nn_core.training.runs import DEFAULT_MODEL_DIR, load_run, load_weights_npz
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
        # the charts a stroke redraws (probabilities, feature maps) in one pass too
        assert app.margins_grown(page) == []
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


def test_an_earlier_epoch_redraws_the_filters_and_the_maps_read_in_the_hover(app: App,
                                                                           page: Page) -> None:
    """The epoch slider sits in the drawing's fragment but the filters above the maps do not
    (ui.digits.panels.drawing_and_maps): moving it reruns the page, so the filters, the link
    and the prediction all follow. The maps' hover, sent as ASCII character references
    (figures.ascii_text), reads as text."""
    model = load_run(DEFAULT_MODEL_DIR)
    first = int(model.checkpoints[0].stem.split("_")[-1])
    app.open(page, "digits")
    app.draw(page, "4")
    expect(prediction(page)).to_have_text("4")
    app.wait_idle(page)
    filters = page.locator(".st-key-digit_filters .js-plotly-plot")

    def shown_filters() -> np.ndarray:
        return np.asarray(filters.evaluate("el => el._fullData[0].z.map(r => Array.from(r))"),
                          np.float64)

    kernel = model.weights[0]
    final_z = shown_filters()
    np.testing.assert_allclose(final_z[:3, :3], kernel[:, :, 0, 0], rtol=1e-6)  # filter 0
    slider = page.get_by_role("slider", name="Weights after epoch")
    slider.focus()
    for _ in model.checkpoints[:-1]:  # to the first checkpoint, as a student can: one a key
        page.keyboard.press("ArrowLeft")
    expect(page.get_by_text(f"weights after epoch {first} of")).to_be_visible()
    app.wait_idle(page)
    early = load_weights_npz(model.checkpoints[0], model.spec)[0]
    np.testing.assert_allclose(shown_filters()[:3, :3], early[:, :, 0, 0], rtol=1e-6)
    assert not np.allclose(early[:, :, 0, 0], kernel[:, :, 0, 0])
    assert f"epoch={first}" in page.url
    expect(prediction(page)).to_be_visible()
    app.assert_no_errors(page)

    def first_map_hover() -> str:  # the hover's two lines, as plotly's tspans: no space between
        maps = page.locator(".st-key-digit_fmaps .js-plotly-plot")
        maps.locator(".draglayer .xy .nsewdrag").first.hover(position={"x": 3, "y": 3})
        label = maps.locator(".hoverlayer .hovertext").first
        expect(label).to_be_visible()
        return label.text_content().strip()

    hover = first_map_hover()
    assert re.fullmatch(r"channel 0\s*value -?\d+\.\d{3}", hover), hover
    # in Russian the hover and the titles are sent as character references: read as letters
    page.locator('[data-testid="stSidebar"] [data-testid="stButtonGroup"]').get_by_text(
        "Русский", exact=True).click()
    expect(page.get_by_text("3. Внутри сети: что видит каждый слой")).to_be_visible()
    app.wait_idle(page)
    hover = first_map_hover()
    assert re.fullmatch(r"канал 0\s*значение -?\d+\.\d{3}", hover), hover
    titles = page.locator(".st-key-digit_fmaps .annotation-text")
    assert "&#" not in titles.first.text_content() and "×" in titles.first.text_content()
