"""Helpers shared by every test folder (import them ``from tests.support``)."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

ROOT = Path(__file__).resolve().parents[1]
DIGIT_PAGE = ROOT / "lessons" / "draw_digit.py"  # the "Draw a digit" page, for AppTest
APP_TIMEOUT_S = 60  # an AppTest run's limit (a loaded 2-core machine; a first run imports)
TRAIN_DEADLINE_S = 600  # a tiny training through the page's real workers, start to finish


def texts(elements: Any) -> str:
    """All texts of some AppTest elements (alerts, markdown, captions), joined, for ``in``
    checks."""
    return "\n".join(str(e.value) for e in elements)


def canvas_state(rgba: Any, stroke: str = "#FFFFFF", mark: int = 1) -> dict:
    """What the drawing canvas sends on mouse-up, as its component state: the fabric json
    (one path; ``mark`` moves its start, so that drawings differ) and the PNG of the (H, W, 4)
    uint8 canvas as a data URL. The AppTests put it under the canvas's key; the load test
    sends it as the component's state."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    path = {"type": "path", "stroke": stroke, "strokeWidth": 20, "path": [["M", mark, 1]]}
    return {"drawing": {"raw": {"version": "6", "objects": [path]}, "data": url},
            "backgroundFit": None}


# The smallest network on all of MNIST: still training when a test stops or cancels it (on
# 1,000 images a fast machine could finish first, and then there was nothing to stop).
LONG_TRAINING_IMAGES = 60_000


def submit_tiny_training(at: Any, kind: str = "custom", images: int = 1_000,
                         lr: float | None = None) -> None:
    """Press Train on the digit page (an AppTest) for a preset, or for the smallest custom CNN
    (4 filters, one block, no dense layer, 1 epoch, batch 32) on ``images`` images."""
    at.selectbox(key="digit_train_kind__w").set_value(kind).run()
    if kind == "custom":
        for key, value in (("f1", 4), ("f2", 0), ("dense", 0), ("dropout", 0.0),
                           ("epochs_custom", 1), ("batch_custom", 32)):
            at.number_input(key=f"digit_train_{key}__w").set_value(value)
        if lr is not None:
            at.number_input(key="digit_train_lr_custom__w").set_value(lr)
    at.selectbox(key="digit_train_images__w").set_value(images).run()
    at.button(key="digit_train_submit").click().run()
    assert not at.exception


def wait_for_training(at: Any, what: str = "the training") -> None:
    """Rerun the digit page (an AppTest) each second until it says the training finished;
    fail at once if it says the training failed, or after TRAIN_DEADLINE_S."""
    deadline = time.monotonic() + TRAIN_DEADLINE_S
    while "Finished: test accuracy" not in texts(at.success):
        assert time.monotonic() < deadline, f"{what} did not finish in time"
        assert "Training failed" not in texts(at.error), texts(at.error)
        time.sleep(1)
        at.run()
        assert not at.exception


def assert_valid_spec(fig: go.Figure) -> None:
    """The builders skip plotly's validation (``ui.common.figures.plain_figure``): it runs here
    instead. Plotly must accept the spec (frames too), and validating it must not change what
    is sent (a magic-underscore key, a template or colorscale name, a bare-string title or a
    None would)."""
    spec = fig.to_dict()  # what Streamlit sends (a plain figure's own fast path)
    validated = go.Figure(spec)  # raises on an invalid property or value
    sent = json.loads(pio.to_json(validated))
    assert sent == _frames_typed(pio.to_json(spec, validate=False))
    assert sent == _frames_typed(pio.to_json(fig))  # plotly's own path, on the built figure


def _frames_typed(spec_json: str) -> dict:
    """A spec as JSON, each animation frame's untyped trace made a scatter, as plotly's Python
    classes make it. A frame's trace may leave out its type (the walk's frames only move its
    balls): plotly.js merges it into the trace it moves, which keeps its own type (the walk's
    balls are scatters)."""
    spec = json.loads(spec_json)
    for frame in spec.get("frames", []):
        for trace in frame.get("data", []):
            trace.setdefault("type", "scatter")
    return spec


def run_script(code: str) -> str:
    """stdout of ``code`` run by this interpreter in a fresh process, TensorFlow quiet and on
    the CPU: how the tests run the Keras scripts the pages show."""
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def run_async(coro: Coroutine[Any, Any, Any], timeout: float = 300.0) -> Any:
    """Run ``coro`` in a thread of its own: Playwright's sync API (the browser tests) keeps an
    event loop in the main thread, where asyncio.run would refuse to start."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout)


def open_sections(at: Any) -> Any:
    """Open every lazy expander of an AppTest's page (``ui.common.widgets.lazy_expander``: its
    content is built only while open), as a student clicking each one does; returns ``at``."""
    closed = [e.key for e in at.expander if e.key and not at.session_state[e.key]]
    if not closed:
        return at
    for key in closed:
        at.session_state[key] = True
    return at.run()
