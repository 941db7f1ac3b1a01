"""A class at once: five browser sessions draw five different digits, each gets its own
prediction, and while one of them trains a network the others' predictions still arrive
within a couple of seconds (training runs in a worker process, not in the web server)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from nn_core.cnn.presets import PRESETS
from nn_core.cnn.specs import count_params
from tests.e2e.e2e_support import LATENCIES, App

pytestmark = pytest.mark.e2e

DIGITS = ("3", "1", "0", "7", "4")  # session 0 trains, then draws too
PREDICTION_BOUND_MS = 5_000  # "within a couple of seconds", on a loaded 2-core machine
START_TIMEOUT_MS = 180_000  # the worker process imports TensorFlow before its first batch


def test_five_sessions_draw_while_one_trains(
    app: App, new_context: Callable[[], BrowserContext]
) -> None:
    pages: list[Page] = []
    for _ in DIGITS:
        page = new_context().new_page()
        app.open(page, "digits")
        expect(app.canvas(page)).to_be_visible()
        pages.append(page)
    trainer = pages[0]

    # Session 0 trains a course network on all 60,000 images: it takes minutes, so every
    # drawing below happens while it trains.
    spec = PRESETS["cnn_34826"]
    app.choose(trainer, "Network to train", f"{spec.title}: {count_params(spec):,} parameters")
    app.choose(trainer, "Training images", "all 60,000")
    trainer.locator(".st-key-digit_train_submit button").click()
    panel = trainer.locator(".st-key-digit_training")
    cancel = trainer.get_by_role("button", name="Cancel training")
    try:
        draw_in_every_session_while_training(app, pages, panel)
    finally:  # the trainer cancels: the server is free again for the other tests
        if cancel.is_visible():
            cancel.click()
    expect(panel).to_contain_text("Training was cancelled.", timeout=60_000)
    app.wait_idle(trainer)
    app.assert_no_errors(trainer)


def draw_in_every_session_while_training(app: App, pages: list[Page], panel: Locator) -> None:
    """Each session draws its digit while the first one's job trains; all predictions arrive."""
    expect(panel).to_contain_text(": running", timeout=START_TIMEOUT_MS)
    expect(panel).to_contain_text("batch", timeout=START_TIMEOUT_MS)  # batches are going

    latencies = []
    for page, digit in zip(pages[1:] + pages[:1], DIGITS[1:] + DIGITS[:1], strict=True):
        app.draw(page, digit)
        released = time.monotonic()
        expect(app.prediction(page)).to_have_text(digit, timeout=PREDICTION_BOUND_MS)
        latencies.append(time.monotonic() - released)
    expect(panel).to_contain_text(": running")  # it trained all along

    # Every session still shows its own canvas and its own digit.
    for page, digit in zip(pages, DIGITS, strict=True):
        expect(app.prediction(page)).to_have_text(digit)
        assert app.ink_pixels(page) > 1000
        app.assert_no_errors(page)
    LATENCIES.append(
        "prediction after mouse-up while another session trains: "
        + ", ".join(f"{s:.2f} s" for s in latencies)
    )
    print(LATENCIES[-1])
    app.shot(pages[0], "multisession-trainer")
    app.shot(pages[1], "multisession-student")
