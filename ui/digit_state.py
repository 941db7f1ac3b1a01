"""The digit page's session state (``digit_`` keys) and its once-per-process cached loaders.

Settings survive page switches through ``kept`` widgets; the canvas callbacks below only touch
session state. Heavy objects (runs, checkpoints, MNIST's test set, the one ``JobRegistry``) are
``st.cache_resource``d: shared by every session, NumPy only, TensorFlow never imported here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from nn_core.cnn import digits
from nn_core.course import DIGIT_INKS, DIGIT_TEST_DIGITS, SEED
from nn_core.training.jobs import JobRegistry, JobStatus
from nn_core.training.runs import TrainedModel, default_runs_dir, load_run, load_weights_npz


# ---------------------------------------------------------------------------------------------
# Session state: every key starts with digit_; settings survive page switches
# ---------------------------------------------------------------------------------------------
def init_state() -> None:
    """Defaults of this page's session state (only missing keys are set)."""
    defaults: dict[str, Any] = {
        "digit_canvas_version": 0,  # bumped to give the canvas a fresh key (clear, ink change)
        "digit_seed": {"objects": []},  # the canvas's initial drawing when it (re)mounts
        "digit_drawing": None,  # {"json": fabric json, "image": (28, 28) or None}
        "digit_source": "canvas",  # what the network reads: "canvas" or "mnist"
        "digit_mnist_index": None,
        "digit_random_count": 0,
        "digit_job_id": None,
        "digit_job_seen": None,  # the job state the training panel showed last
        "digit_trace": None,  # running loss/accuracy samples of the current job (live curve)
    }
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value


def kept(widget: Callable[..., Any], label: str, key: str, default: Any, **kwargs: Any) -> Any:
    """A widget whose value lives in ``key`` and survives page switches (widget key: key_w).

    Streamlit forgets the state of widgets on pages not shown; the value is copied to a plain
    session-state key after every run and handed back to the widget when it is recreated.
    """
    state = st.session_state
    if key not in state:
        state[key] = default
    widget_key = f"{key}_w"
    if widget_key not in state:
        state[widget_key] = state[key]
    value = widget(label, key=widget_key, **kwargs)
    state[key] = value
    return value


def reset_kept(key: str, value: Any) -> None:
    """Set a kept widget's value before the widget is created in this run."""
    st.session_state[key] = value
    st.session_state[f"{key}_w"] = value


def ink_colours(name: str) -> tuple[str, str]:
    """(ink, background) hex colours of an ink label of ``DIGIT_INKS``."""
    return next((ink, bg) for label, ink, bg in DIGIT_INKS if label == name)


# ---------------------------------------------------------------------------------------------
# Canvas callbacks (on_click / on_change: they run before the page reruns)
# ---------------------------------------------------------------------------------------------
def clear_drawing() -> None:
    """Page 'Clear' button: a fresh, empty canvas (new key) and no drawing."""
    state = st.session_state
    state["digit_canvas_version"] += 1
    state["digit_seed"] = {"objects": []}
    state["digit_drawing"] = None
    state["digit_source"] = "canvas"


def recolour_drawing() -> None:
    """Ink change: keep the drawing, repainted in the new ink (the canvas remounts with it)."""
    state = st.session_state
    ink, _ = ink_colours(state["digit_ink_w"])
    drawing = state.get("digit_drawing")
    if drawing is not None and drawing.get("json"):
        objects = [{**obj, "stroke": ink} if "stroke" in obj else obj
                   for obj in drawing["json"].get("objects", [])]
        state["digit_drawing"] = {**drawing, "json": {**drawing["json"], "objects": objects}}
    state["digit_canvas_version"] += 1


def random_digit() -> None:
    """'Random MNIST test digit' button: pick the next test digit of a seeded sequence."""
    state = st.session_state
    state["digit_random_count"] += 1
    rng = np.random.default_rng([SEED, state["digit_random_count"]])
    state["digit_mnist_index"] = int(rng.integers(DIGIT_TEST_DIGITS))
    state["digit_source"] = "mnist"


def show_drawing() -> None:
    """'Back to my drawing' button."""
    st.session_state["digit_source"] = "canvas"


def current_input() -> tuple[np.ndarray | None, str, int | None]:
    """(image (28, 28) in [0, 1] or None, where it comes from, true label or None)."""
    state = st.session_state
    if state["digit_source"] == "mnist" and state["digit_mnist_index"] is not None:
        test = mnist_test()
        if test is not None:
            x_test, y_test = test
            index = state["digit_mnist_index"] % len(x_test)
            return (x_test[index].astype(np.float32) / 255,
                    f"MNIST test digit #{index}", int(y_test[index]))
    drawing = state["digit_drawing"]
    return (None if drawing is None else drawing["image"]), "your drawing", None


def record_trace(status: JobStatus) -> dict[str, list[float]] | None:
    """Append the running (epoch-mean) loss/accuracy to this session's live curve of the job."""
    state = st.session_state
    trace = state.get("digit_trace")
    if trace is None or trace.get("job") != status.job_id:
        trace = {"job": status.job_id, "x": [], "loss": [], "accuracy": []}
    if status.state == "running" and status.batches and status.loss is not None:
        x = status.epoch - 1 + status.batch / status.batches
        if not trace["x"] or x > trace["x"][-1]:
            trace["x"].append(x)
            trace["loss"].append(float(status.loss))
            trace["accuracy"].append(float(status.accuracy or np.nan))
    state["digit_trace"] = trace
    return trace if trace["x"] else None


# ---------------------------------------------------------------------------------------------
# Heavy objects: once per process
# ---------------------------------------------------------------------------------------------
def runs_dir() -> Path:
    """Where training runs are saved (env NN_PLAYGROUND_RUNS, read on every run for tests)."""
    return default_runs_dir()


@st.cache_resource(show_spinner=False)
def registry(folder: str) -> JobRegistry:
    """The process-wide training-job registry (one per runs folder)."""
    return JobRegistry(folder)


@st.cache_resource(show_spinner=False, max_entries=32)
def _load_model_cached(path: str, stamp: float) -> TrainedModel:
    """A finished run read once per process (``stamp``: weights.npz mtime, for retrained runs)."""
    return load_run(path)


def load_model(path: str | Path) -> TrainedModel:
    """Cached ``load_run``; ValueError/OSError when the run is missing or broken."""
    path = Path(path)
    weights = path / "weights.npz"
    return _load_model_cached(str(path), weights.stat().st_mtime if weights.exists() else 0.0)


@st.cache_resource(show_spinner=False, max_entries=64)
def checkpoint(path: str) -> list[np.ndarray]:
    """Weights after one epoch (checkpoints/epoch_XX.npz)."""
    return load_weights_npz(path)


@st.cache_resource(show_spinner="Loading the MNIST test set…")
def _mnist_test_cached(path: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 10,000 test images (N, 28, 28) uint8 and labels (N,)."""
    _, (x_test, y_test) = digits.load_mnist(Path(path))
    return x_test, y_test


def mnist_test() -> tuple[np.ndarray, np.ndarray] | None:
    """The test set, or None with a warning on the page when MNIST is not available.

    Only the shipped asset is read: load_mnist's Keras fallback would import TensorFlow here.
    ``digits.MNIST_ASSET`` is read on every call (tests point it elsewhere).
    """
    asset = digits.MNIST_ASSET
    if not asset.exists():
        st.warning(f"The MNIST data set is missing ({asset}): copy mnist.npz into assets/ "
                   "(see the README). Drawing and prediction still work.")
        return None
    try:
        return _mnist_test_cached(str(asset))
    except Exception as exc:  # a broken file must not break the page
        st.warning(f"The MNIST data set could not be read: {exc}")
        return None
