"""Background training from the browser: a tiny network trains while the student switches
pages, and the page shows it finished, with its curves, when they come back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from nn_core.cnn.presets import custom_spec
from nn_core.cnn.specs import count_params
from tests.e2e.e2e_support import App

pytestmark = pytest.mark.e2e

TRAINING_TIMEOUT_MS = 240_000  # a worker imports TensorFlow, then one epoch on 1,000 images
FILTERS = 4


def test_training_survives_a_page_switch_and_finishes_with_its_curves(
    app: App, page: Page
) -> None:
    app.open(page, "digits")
    # The smallest custom network: one conv block of 4 filters, no dense layer, 1 epoch.
    app.choose(page, "Network to train", "Custom CNN (choose its layers)")
    settings = {"Filters, conv block 1": FILTERS, "Filters, conv block 2 (0 = none)": 0,
                "Dense neurons (0 = none)": 0, "Epochs": 1}  # fmt: skip
    for label, value in settings.items():
        field = app.number_input(page, label)
        field.fill(str(value))
        field.press("Tab")
    app.choose(page, "Training images", "1,000")
    page.locator(".st-key-digit_train_submit button").click()

    panel = page.locator(".st-key-digit_training")
    expect(panel).to_contain_text(re.compile(r"Custom CNN: conv 4 .*: (queued|running|done)"))
    app.wait_idle(page)
    app.assert_no_errors(page)
    app.shot(page, "training-started")

    # Away to another page while the worker trains, then back through the sidebar.
    app.navigate(page, "forward")
    expect(app.metric(page, "Y")).to_have_text(re.compile(r"^1\.826"))  # the lesson's 1.8263
    app.navigate(page, "digits")
    panel = page.locator(".st-key-digit_training")
    expect(panel).to_contain_text("Custom CNN: conv 4")

    expect(panel.get_by_text("Finished: test accuracy")).to_be_visible(
        timeout=TRAINING_TIMEOUT_MS
    )
    app.wait_idle(page)
    app.assert_no_errors(page)
    curves = panel.locator(".js-plotly-plot")
    expect(curves).to_be_visible()
    traces = app.plotly_traces(curves)
    names = {t["name"] for t in traces if t["y"]}
    assert {"train", "validation"} <= names, names
    assert all(len(t["y"]) >= 1 for t in traces if t["name"] in ("train", "validation"))

    # The finished network can read drawings now.
    page.get_by_role("button", name="Use this network for prediction").click()
    spec = custom_spec(conv_filters=(FILTERS,), dense_units=0, epochs=1)
    expect(app.metric(page, "Parameters")).to_have_text(f"{count_params(spec):,}")
    expect(app.metric(page, "Epochs trained")).to_have_text("1")
    app.wait_idle(page)
    app.assert_no_errors(page)
    app.shot(page, "training-finished")
