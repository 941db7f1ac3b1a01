"""Helpers shared by every test folder (import them ``from tests.support``)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import subprocess
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

ROOT = Path(__file__).resolve().parents[1]


def assert_valid_spec(fig: go.Figure) -> None:
    """The builders skip plotly's validation (``ui.common.figures.plain_figure``): it runs here
    instead. Plotly must accept the spec (frames too), and validating it must not change what
    is sent (a magic-underscore key, a template or colorscale name, a bare-string title or a
    None would)."""
    spec = fig.to_dict()  # what Streamlit sends (a plain figure's own fast path)
    validated = go.Figure(spec)  # raises on an invalid property or value
    sent = json.loads(pio.to_json(validated))
    assert sent == json.loads(pio.to_json(spec, validate=False))
    assert sent == json.loads(pio.to_json(fig))  # plotly's own path, on the built figure


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
