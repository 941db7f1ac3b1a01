"""The digit page's settings table (``digit_`` keys), its callbacks and once-per-process loaders.

Settings survive page switches through ``ui.common.widgets``; the canvas callbacks below only
touch session state. Heavy objects (runs, checkpoints, run summaries, MNIST's test set, the one
``JobRegistry`` per runs folder) are ``st.cache_resource``d: shared by every session, NumPy
only, TensorFlow never imported here.

Each browser session has a stable ``owner`` id (a random uuid, kept with the other settings):
the registry counts the sessions waiting for a job by it, gives each session one training at a
time, and stops a job only when no session waits for it any more.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import numpy as np
import streamlit as st

from nn_core.cnn import digits
from nn_core.cnn.presets import PRESETS
from nn_core.cnn.specs import ModelSpec
from nn_core.course import SEED
from nn_core.training.jobs import JobRegistry, JobStatus
from nn_core.training.ray_backend import RayRegistry, open_registry
from nn_core.training.runs import (
    RunSummary,
    TrainedModel,
    describe_run,
    load_run,
    load_weights_npz,
)
from ui.common.format import approx
from ui.common.i18n import N_, _
from ui.common.lesson import Task
from ui.common.state import Codec, PageState, Setting, number_codec

CANVAS_SIZE = 280  # px, square: 10× MNIST's 28×28
INKS: tuple[tuple[str, str, str], ...] = (  # (label, ink, background); the first is the default
    (N_("White ink on black"), "#FFFFFF", "#000000"),  # the label is the value; shown with _()
    (N_("Black ink on white"), "#000000", "#FFFFFF"),
)
STROKE_WIDTH: tuple[int, int, int] = (6, 40, 20)  # min, max, default (px on the canvas)
TEST_DIGITS = 10_000  # "Random test digit" draws from MNIST's 10,000 test images
LESSON_DIGIT = 1024  # lesson 002 shows x_test[1024] (a 4) to its network
MISTAKES_SHOWN = 24  # misclassified test digits in the gallery
POLL_S = 1.0  # the training panel refreshes this often while a job is active

RUN_NAME = re.compile(r"[A-Za-z0-9_.-]{1,120}")


def _run_name(text: str) -> str:
    """A network in a link: its run folder's name (never a server path)."""
    if not RUN_NAME.fullmatch(text) or text.startswith("."):
        raise ValueError("is not the name of a trained network")
    return text


def _optional_index(text: str) -> int | None:
    return None if text == "" else number_codec(0, TEST_DIGITS - 1, integer=True).decode(text)


# A network travels as its run folder's name (the page finds it among its choices); a test
# digit as its index, or empty for none.
MODEL_CODEC = Codec(lambda path: "" if path is None else Path(path).name,
                    lambda text: None if text == "" else _run_name(text))
INDEX_CODEC = Codec(lambda index: "" if index is None else str(int(index)), _optional_index)


def _training_default(name: str) -> object:
    """A training form's default, read from ``ui.digits.training`` when first needed."""
    from ui.digits import training

    return getattr(training, name)


# The page's settings table. The training form keeps one set of keys per network
# (``train_epochs_<kind>`` ...), created with their defaults by the form itself; the network
# to train and the number of images travel in the link.
STATE = PageState("digit_", [
    Setting("canvas_version", 0),  # bumped to give the canvas a fresh key (clear, ink change)
    Setting("seed", lambda: {"objects": []}),  # the canvas's drawing when it (re)mounts
    Setting("drawing", None),  # {"json": fabric json, "image": (28, 28) or None}
    # what the network reads: "canvas" or "mnist"
    Setting("source", "canvas", ("canvas", "mnist"), N_("What the network reads")),
    Setting("mnist_index", None, INDEX_CODEC, N_("MNIST test digit")),
    # the "Test digit by index" entry
    Setting("test_index", LESSON_DIGIT, number_codec(0, TEST_DIGITS - 1, integer=True),
            N_("Test digit by index")),
    Setting("random_count", 0),
    Setting("owner", lambda: uuid.uuid4().hex),  # this session, for the job registry
    Setting("job_id", None),  # the session's training job (None: none, or it left it)
    Setting("notice", None),  # [(kind, text)]: what the last Train/Cancel/Resume did
    Setting("job_seen", None),  # the job state the training panel showed last
    Setting("trace", None),  # running loss/accuracy samples of the current job (live curve)
    Setting("ink", INKS[0][0], tuple(label for label, _i, _b in INKS), N_("Ink")),
    Setting("stroke", STROKE_WIDTH[2], number_codec(*STROKE_WIDTH[:2], integer=True),
            N_("Stroke width")),
    Setting("per_channel", False, bool, N_("Scale each map on its own")),
    # the network that reads (None: the first choice)
    Setting("model", None, MODEL_CODEC, N_("Network that reads your drawing")),
    # None: the final weights
    Setting("epoch", None, number_codec(0, 10_000, integer=True), N_("Weights after epoch")),
    Setting("train_kind", lambda: _training_default("TRAIN_KIND"), (*PRESETS, "custom"),
            N_("Network to train")),
    Setting("train_images", lambda: _training_default("TRAIN_IMAGES_DEFAULT"),
            number_codec(1, 60_000, integer=True), N_("Training images")),
])
P = STATE.prefix


# A custom network's title as nn_core.cnn.presets.custom_spec writes it (English, in spec.json).
CUSTOM_TITLE = re.compile(r"Custom CNN: conv ([\d-]+) \((\d+)×\d+, (no|max|avg) pooling\), "
                          r"dense (\d+), dropout (\S+)")
POOLED = {"no": N_("no pooling"), "max": N_("max pooling"), "avg": N_("avg pooling")}


def spec_title(spec: ModelSpec) -> str:
    """A network's title in the session's language: a course network's (its English title is
    the msgid) or a custom one's, rebuilt from its parts; any other title as it is."""
    preset = PRESETS.get(spec.name)
    if preset is not None and spec.title == preset.title:
        return _(spec.title)
    custom = CUSTOM_TITLE.fullmatch(spec.title) if spec.name == "custom" else None
    if custom is None:
        return spec.title
    filters, k, pooling, dense, dropout = custom.groups()
    return _("Custom CNN: conv {filters} ({k}×{k}, {pooling}), dense {dense}, dropout "
             "{dropout}").format(filters=filters, k=k, pooling=_(POOLED[pooling]), dense=dense,
                                 dropout=dropout)


def ink_colours(name: str) -> tuple[str, str]:
    """(ink, background) hex colours of an ink label of ``INKS``."""
    return next((ink, bg) for label, ink, bg in INKS if label == name)


# ---------------------------------------------------------------------------------------------
# Canvas callbacks (on_click / on_change: they run before the page reruns)
# ---------------------------------------------------------------------------------------------
def clear_drawing() -> None:
    """Page 'Clear' button: a fresh, empty canvas (new key) and no drawing."""
    state = st.session_state
    state[P + "canvas_version"] += 1
    state[P + "seed"] = {"objects": []}
    state[P + "drawing"] = None
    state[P + "source"] = "canvas"


def recolour_drawing() -> None:
    """Ink change: keep the drawing, repainted in the new ink (the canvas remounts with it)."""
    state = st.session_state
    ink, _background = ink_colours(state[P + "ink"])
    drawing = state.get(P + "drawing")
    if drawing is not None and drawing.get("json"):
        objects = [{**obj, "stroke": ink} if "stroke" in obj else obj
                   for obj in drawing["json"].get("objects", [])]
        state[P + "drawing"] = {**drawing, "json": {**drawing["json"], "objects": objects}}
    state[P + "canvas_version"] += 1


def random_digit() -> None:
    """'Random MNIST test digit' button: pick the next test digit of a seeded sequence."""
    state = st.session_state
    state[P + "random_count"] += 1
    rng = np.random.default_rng([SEED, state[P + "random_count"]])
    state[P + "mnist_index"] = int(rng.integers(TEST_DIGITS))
    state[P + "test_index"] = state[P + "mnist_index"]  # the index entry shows which one
    state[P + "source"] = "mnist"


def show_test_index() -> None:
    """'Test digit by index' entry: show the MNIST test digit with that index."""
    state = st.session_state
    state[P + "mnist_index"] = int(state[P + "test_index"])
    state[P + "source"] = "mnist"


def lesson_digit() -> None:
    """"Lesson 002's #1024" button: the test digit lesson 002 shows its network."""
    st.session_state[P + "test_index"] = LESSON_DIGIT
    show_test_index()


def show_drawing() -> None:
    """'Back to my drawing' button."""
    st.session_state[P + "source"] = "canvas"


def current_input() -> tuple[np.ndarray | None, str, int | None]:
    """(image (28, 28) in [0, 1] or None, where it comes from, true label or None)."""
    state = st.session_state
    if state[P + "source"] == "mnist" and state[P + "mnist_index"] is not None:
        test = mnist_test()
        if test is not None:
            x_test, y_test = test
            index = state[P + "mnist_index"] % len(x_test)
            return (x_test[index].astype(np.float32) / 255,
                    _("MNIST test digit #{index}").format(index=index), int(y_test[index]))
    drawing = state[P + "drawing"]
    return (None if drawing is None else drawing["image"]), _("your drawing"), None


def record_trace(status: JobStatus) -> dict[str, list[float]] | None:
    """Append the running (epoch-mean) loss/accuracy to this session's live curve of the job."""
    state = st.session_state
    trace = state.get(P + "trace")
    if trace is None or trace.get("job") != status.job_id:
        trace = {"job": status.job_id, "x": [], "loss": [], "accuracy": []}
    if status.state == "running" and status.batches and status.loss is not None:
        x = status.epoch - 1 + status.batch / status.batches
        if not trace["x"] or x > trace["x"][-1]:
            trace["x"].append(x)
            trace["loss"].append(float(status.loss))
            trace["accuracy"].append(float(status.accuracy or np.nan))
    state[P + "trace"] = trace
    return trace if trace["x"] else None


# ---------------------------------------------------------------------------------------------
# Heavy objects: once per process
# ---------------------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def registry(folder: str) -> JobRegistry | RayRegistry:
    """The process-wide training-job registry (one per runs folder): this process's own, or
    with NN_PLAYGROUND_BACKEND=ray (or RAY_ADDRESS set) a client of the one every replica
    shares (nn_core.training.ray_backend)."""
    return open_registry(folder)


def _stamp(path: Path) -> tuple[int, int] | None:
    """(mtime in ns, size) of a file, None when it is missing or cannot be read."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


@st.cache_resource(show_spinner=False, max_entries=256)
def _describe_cached(path: str, stamp: tuple) -> RunSummary:
    """``describe_run`` once per version of a run folder's files."""
    return describe_run(path)


def run_summary(path: str | Path) -> RunSummary:
    """What the model list shows of a run (never raises), cached by its files' mtimes and sizes:
    a run that is retrained, damaged or repaired is read again."""
    path = Path(path)
    stamp = tuple(_stamp(path / name) for name in ("result.json", "weights.npz", "spec.json"))
    return _describe_cached(str(path), stamp)


@st.cache_resource(show_spinner=False, max_entries=32)
def _load_model_cached(path: str, stamp: tuple) -> TrainedModel:
    """A finished run read once per process (``stamp``: its files' mtimes and sizes)."""
    return load_run(path)


def load_model(path: str | Path) -> TrainedModel:
    """Cached ``load_run``; ValueError (OSError at worst) when the run is missing or broken."""
    path = Path(path)
    stamp = tuple(_stamp(path / name) for name in ("result.json", "weights.npz", "spec.json"))
    return _load_model_cached(str(path), stamp)


@st.cache_resource(show_spinner=False, max_entries=64)
def checkpoint(path: str) -> list[np.ndarray]:
    """Weights after one epoch (checkpoints/epoch_XX.npz)."""
    return load_weights_npz(path)


@st.cache_resource(show_spinner=False)
def _mnist_test_cached(path: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 10,000 test images (N, 28, 28) uint8 and labels (N,)."""
    _train, (x_test, y_test) = digits.load_mnist(Path(path))
    return x_test, y_test


def mnist_test() -> tuple[np.ndarray, np.ndarray] | None:
    """The test set, or None with a warning on the page when MNIST is not available.

    Only the shipped asset is read: load_mnist's Keras fallback would import TensorFlow here.
    ``digits.MNIST_ASSET`` is read on every call (tests point it elsewhere).
    """
    asset = digits.MNIST_ASSET
    if not asset.exists():
        st.warning(_("The MNIST data set is missing ({path}): copy mnist.npz into assets/ "
                     "(see the README). Drawing and prediction still work.").format(
                         path=asset))
        return None
    try:
        with st.spinner(_("Loading the MNIST test set…")):
            return _mnist_test_cached(str(asset))
    except Exception as exc:  # a broken file must not break the page
        st.warning(_("The MNIST data set could not be read: {reason}").format(reason=exc))
        return None


# ---------------------------------------------------------------------------------------------
# Tasks a lesson link can set (ui.common.lesson)
# ---------------------------------------------------------------------------------------------
def _reads_seven(v: dict) -> tuple[bool, str]:
    """values: probabilities (10,) of the digit shown, or None before there is one."""
    if v["probabilities"] is None:
        return False, _("draw a digit first.")
    p = np.asarray(v["probabilities"], float)
    digit = int(np.argmax(p))
    text = _("The network reads a {digit} with {p} confidence (a 7: {seven}).").format(
        digit=digit, p=f"{p[digit]:.1%}", seven=approx(float(p[7])))
    return digit == 7 and p[7] > 0.9, text


TASKS = (
    Task("seven", N_("Draw a digit the network reads as 7 with a confidence above 90%."),
         _reads_seven),
)
