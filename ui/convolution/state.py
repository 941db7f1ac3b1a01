"""The convolution page's settings table, its callbacks, and the arrays the page computes on.

Every setting lives in Session State under ``conv_<name>`` (``STATE``, declared once below).
The grey part computes in float32, as Keras's Conv2D does by default: the MNIST digit (28, 28)
divided by 255 as on the digit page, the kernel (3, 3) and the bias cast to float32. Numbers
are written at the lessons' precision (``approx``), or with the page's "exact" toggle on to
``DIGITS`` significant digits: Keras may add the nine products in another order, which moves
the last of float32's 7-8 digits (measured: up to a few units in the last place), never the
sixth. The learned filters are the shipped network's first Conv2D (``weights[0]``
(3, 3, 1, 32), ``weights[1]`` (32,)), read once per process by the digit page's loader.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from nn_core.basics.network import format_keras
from nn_core.cnn.convolution import KERNELS, get_kernel, output_shape
from nn_core.training import runs
from ui.common.format import approx, plain, short
from ui.common.i18n import N_, _
from ui.common.lesson import Task
from ui.common.state import Codec, Column, PageState, Setting, number_codec, table_codec
from ui.common.widgets import bump_editor
from ui.digits import state as digits_state

DTYPE = "float32"  # Keras's default floatx: the grey part computes as Keras
DIGITS = 6  # significant digits of the exact numbers shown (and printed by the Keras code)
SIZE = 3  # the kernel is SIZE×SIZE
POOL = 2  # MaxPooling2D(2): pool size = stride = 2
IMAGE_SHAPE = (28, 28)
MAP_SHAPE = output_shape(IMAGE_SHAPE, SIZE)  # (26, 26): positions 0..25 in each direction
POOLED_SHAPE = (MAP_SHAPE[0] // POOL, MAP_SHAPE[1] // POOL)  # (13, 13)
COLOR_SIZE = 16  # the colour example's picture is 16×16×3
COLOR_MAP_SHAPE = output_shape((COLOR_SIZE, COLOR_SIZE), SIZE)  # (14, 14)
TEST_DIGITS = digits_state.TEST_DIGITS
LESSON_DIGIT = digits_state.LESSON_DIGIT  # lesson 002's x_test[1024]
LEARNED = "learned_"  # kernel choices "learned_0".."learned_31": the shipped network's filters
LEARNED_FILTERS = 32
COLUMNS = ("col 0", "col 1", "col 2")  # the kernel table's columns; its rows are rows 0..2
ACTIVATIONS = ("linear", "relu")  # Conv2D's default, and the shipped network's
POOL_KINDS = ("max", "avg")
SOURCES = ("mnist", "drawing")


def kernel_table(weights: np.ndarray) -> pd.DataFrame:
    """A kernel (3, 3) as the editable table: rows 0..2, columns ``COLUMNS``, float64."""
    return pd.DataFrame(np.asarray(weights, np.float64).reshape(SIZE, SIZE),
                        columns=list(COLUMNS))


MAX_WEIGHT = 1e6  # |weight| and |bias| a link may set
# The kernel's weights travel as weights=1;0;-1|1;0;-1|1;0;-1 (rows of the 3×3 table).
WEIGHTS_CODEC = table_codec(
    [Column(c, float, -MAX_WEIGHT, MAX_WEIGHT) for c in COLUMNS], min_rows=SIZE,
    max_rows=SIZE, dump=lambda table: read_kernel(table).tolist(),
    load=lambda rows: kernel_table(rows))
KERNEL_NAMES = (*KERNELS, *(f"{LEARNED}{i}" for i in range(LEARNED_FILTERS)))


def _position(shape: tuple[int, int]) -> Codec:
    """A position 0..n-1 on a square map of ``shape``."""
    return number_codec(0, shape[0] - 1, integer=True)


STATE = PageState("conv_", [
    # "mnist" (a test digit by index) or "drawing" (the digit page's)
    Setting("source", "mnist", SOURCES, N_("Image to convolve")),
    Setting("index", LESSON_DIGIT, number_codec(0, TEST_DIGITS - 1, integer=True),
            N_("MNIST test digit (index in x_test)")),
    # the kernel the table was loaded from
    Setting("kernel", "vertical_edge", KERNEL_NAMES, N_("Kernel")),
    Setting("weights", lambda: kernel_table(get_kernel("vertical_edge")), WEIGHTS_CODEC,
            N_("Kernel weights")),
    Setting("bias", 0.0, number_codec(-MAX_WEIGHT, MAX_WEIGHT), N_("Bias b")),
    Setting("activation", "linear", ACTIVATIONS, N_("Activation after the sum")),
    # the kernel's top-left pixel: on the left edge of #1024's stroke
    Setting("row", 10, _position(MAP_SHAPE), N_("Kernel row (top edge)")),
    Setting("col", 10, _position(MAP_SHAPE), N_("Kernel column (left edge)")),
    Setting("pool_kind", "max", POOL_KINDS, N_("Pooling")),
    # the pooled map's position: the block of rows 10-11, cols 10-11
    Setting("pool_row", 5, _position(POOLED_SHAPE), N_("Window row")),
    Setting("pool_col", 5, _position(POOLED_SHAPE), N_("Window column")),
    # the yellow bar's top-left corner: all three channels respond
    Setting("color_row", 9, _position(COLOR_MAP_SHAPE), N_("Colour kernel row")),
    Setting("color_col", 2, _position(COLOR_MAP_SHAPE), N_("Colour kernel column")),
    # numbers as the Keras code prints them, not at lesson precision
    Setting("exact", False, bool, N_("Exact numbers (as the Keras code prints them)")),
])
P = STATE.prefix


# ---------------------------------------------------------------------------------------------
# Kernels: hand-set and learned
# ---------------------------------------------------------------------------------------------
def learned_filters() -> tuple[np.ndarray, np.ndarray] | None:
    """The shipped network's 32 learned 3×3 filters (3, 3, 1, 32) and biases (32,); None when
    the shipped model is missing or unreadable (the hand-set kernels still work).

    The model itself is cached once per process by the digit page's ``load_model``.
    """
    try:
        model = digits_state.load_model(runs.DEFAULT_MODEL_DIR)  # read now: tests repoint it
    except (ValueError, OSError):
        return None
    kernel, bias = (np.asarray(w) for w in model.weights[:2])
    if kernel.shape[:3] != (SIZE, SIZE, 1) or bias.shape != kernel.shape[3:]:
        return None  # not a 3×3 Conv2D on one channel
    return kernel, bias


def kernel_choices(learned: tuple[np.ndarray, np.ndarray] | None) -> list[str]:
    """The hand-set kernels' names, then "learned_0".. for each learned filter there is."""
    count = 0 if learned is None else learned[0].shape[-1]
    return [*KERNELS, *(f"{LEARNED}{i}" for i in range(count))]


def kernel_title(name: str) -> str:
    """'Vertical edge', or 'Learned filter 7 (shipped network)'."""
    if name.startswith(LEARNED):
        return _("Learned filter {n} (shipped network)").format(n=name.removeprefix(LEARNED))
    return _(KERNELS[name].title) if name in KERNELS else name


def kernel_weights(name: str, learned: tuple[np.ndarray, np.ndarray] | None
                   ) -> tuple[np.ndarray, float]:
    """The weights (3, 3) float64 and bias of a kernel choice; ValueError when unknown."""
    if name.startswith(LEARNED):
        if learned is None:
            raise ValueError("the shipped network's learned filters are not available")
        index = int(name.removeprefix(LEARNED))
        return learned[0][:, :, 0, index].astype(np.float64), float(learned[1][index])
    return get_kernel(name), 0.0


def load_kernel(name: str) -> None:
    """Fill the table and the bias with the named kernel's (the editor starts over)."""
    try:
        weights, bias = kernel_weights(name, learned_filters())
    except ValueError:
        name, (weights, bias) = "vertical_edge", kernel_weights("vertical_edge", None)
    STATE["kernel"] = name
    STATE["weights"] = kernel_table(weights)
    STATE["bias"] = bias
    bump_editor(STATE.key("weights"))


def on_kernel() -> None:
    """Kernel chooser: load the chosen kernel's weights and bias into the table."""
    load_kernel(STATE["kernel"])


def read_kernel(table: Any) -> np.ndarray:
    """The edited table -> kernel (3, 3) float64; ValueError saying which cell is wrong.

    Rows and columns are numbered from 0, as the positions on the page and in NumPy.
    """
    if not isinstance(table, pd.DataFrame) or table.shape != (SIZE, SIZE):
        shape = getattr(table, "shape", None)
        raise ValueError(_("The kernel table must be 3×3, got {shape}: choose a kernel "
                           "again.").format(shape=shape))
    numbers = table.apply(pd.to_numeric, errors="coerce").to_numpy(np.float64, copy=True,
                                                                   na_value=np.nan)
    bad = np.argwhere(~np.isfinite(numbers))
    if bad.size:
        row, col = (int(v) for v in bad[0])
        cell = table.iat[row, col]
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            text = _("Kernel row {row}, column {col} is empty: every weight must be a finite "
                     "number.")
        else:
            text = _("Kernel row {row}, column {col} holds {value}: every weight must be a "
                     "finite number.")
        raise ValueError(text.format(row=row, col=col, value=plain(repr(cell), 30)))
    return numbers


def as_dtype(values: Any) -> np.ndarray:
    """Values in the page's float32 (what Keras stores and computes with)."""
    return np.asarray(values, dtype=np.float64).astype(DTYPE)


def exact_shown() -> bool:
    """Whether the page's "exact numbers" toggle is on (False outside a session)."""
    return bool(STATE.get("exact", False))


def keras_digits(value: float) -> str:
    """A number as the page's Keras code prints it, ``f"{value:.6g}"``: ``DIGITS``
    significant digits (0.870588)."""
    return short(value, DIGITS)


def num(value: float) -> str:
    """A number as the page writes it: at the lesson's precision (0.8706, 2.7098), or with
    the "exact" toggle on, as the Keras code prints it (``keras_digits``)."""
    return keras_digits(value) if exact_shown() else approx(value)


def hover_format() -> str:
    """The d3 format of a hovered heatmap value, as ``num`` writes it: four decimals without
    trailing zeros, or ``DIGITS`` significant digits with the "exact" toggle on."""
    return f".{DIGITS}g" if exact_shown() else ".4~f"


def literal(value: float) -> str:
    """A float32 value with the shortest digits that give it back exactly (for the code)."""
    return format_keras(value, DTYPE)


# ---------------------------------------------------------------------------------------------
# The input image
# ---------------------------------------------------------------------------------------------
def drawing() -> np.ndarray | None:
    """The student's drawing on the digit page (28, 28) in [0, 1], None if there is none."""
    saved = st.session_state.get(digits_state.STATE.key("drawing"))
    image = saved.get("image") if isinstance(saved, dict) else None
    if image is None:
        return None
    image = np.asarray(image)
    return image if image.shape == IMAGE_SHAPE else None


def on_lesson_digit() -> None:
    """Button: lesson 002's test digit #1024."""
    STATE["index"] = LESSON_DIGIT
    STATE["source"] = "mnist"


def on_index() -> None:
    """Index typed in: show that test digit (not the drawing)."""
    STATE["source"] = "mnist"


def on_next() -> None:
    """Button: the kernel's next position in raster order (row by row, left to right)."""
    row, col = STATE["row"], STATE["col"] + 1
    if col >= MAP_SHAPE[1]:
        row, col = (row + 1) % MAP_SHAPE[0], 0
    STATE["row"], STATE["col"] = row, col


def test_digit(index: int) -> tuple[np.ndarray, int] | None:
    """MNIST test digit ``index`` as (28, 28) float32 in [0, 1] (as the digit page reads it)
    and its label; None (with a warning on the page) when MNIST is missing."""
    test = digits_state.mnist_test()
    if test is None:
        return None
    x_test, y_test = test
    return x_test[index].astype(np.float32) / 255, int(y_test[index])


# ---------------------------------------------------------------------------------------------
# The Keras code
# ---------------------------------------------------------------------------------------------
def _literal(array: np.ndarray, indent: str = "    ") -> str:
    """A float32 array (2-D) as a Python list literal, one row a line, exact digits."""
    rows = [", ".join(literal(float(v)) for v in row) for row in np.asarray(array)]
    return "[\n" + "".join(f"{indent}[{row}],\n" for row in rows) + "]"


def keras_script(image: np.ndarray, index: int | None, kernel: np.ndarray, bias: float,
                 activation: str, position: tuple[int, int], pool_kind: str,
                 pool_position: tuple[int, int]) -> str:
    """A runnable Keras script: Conv2D(1, 3) with this kernel (3, 3) and bias set through
    set_weights, then MaxPooling2D(2) (or AveragePooling2D); it prints the feature map's value
    at ``position`` and the pooled value at ``pool_position``, as the page shows them.

    ``index`` is the MNIST test digit's index; None embeds ``image`` (28, 28) itself (a
    drawing), to its float32 digits.
    """
    if index is None:
        source = (f"image = np.array({_literal(image)}, dtype=\"float32\")  # (28, 28): "
                  + _("your drawing, as the digit page made it") + "\n")
    else:
        source = ("(_, _), (x_test, y_test) = keras.datasets.mnist.load_data()\n"
                  f"image = x_test[{index}].astype(\"float32\") / 255  # (28, 28), "
                  + _("pixels in [0, 1]") + "\n")
    row, col = position
    prow, pcol = pool_position
    pool = "MaxPooling2D" if pool_kind == "max" else "AveragePooling2D"
    one_image = _("one image with one channel")
    one_filter = _("one filter, 3×3, 'valid'")
    weights = _("Conv2D's weights: a kernel (3, 3, channels in, filters) = (3, 3, 1, 1) and one "
                "bias per filter")
    return f"""import numpy as np
import keras

{source}x = image[None, :, :, None]  # (1, 28, 28, 1): {one_image}

kernel = np.array({_literal(as_dtype(kernel))}, dtype="float32")  # (3, 3)
conv = keras.layers.Conv2D(1, 3, activation="{activation}")  # {one_filter}
pool = keras.layers.{pool}(2)
model = keras.Sequential([keras.Input((28, 28, 1)), conv, pool])
# {weights}
conv.set_weights([kernel.reshape(3, 3, 1, 1), np.array([{literal(bias)}], dtype="float32")])

feature_map = np.asarray(conv(x))[0, :, :, 0]  # (26, 26)
print(f"feature map at ({row}, {col}): {{feature_map[{row}, {col}]:.{DIGITS}g}}")
pooled = np.asarray(model(x))[0, :, :, 0]  # (13, 13)
print(f"pooled at ({prow}, {pcol}): {{pooled[{prow}, {pcol}]:.{DIGITS}g}}")
"""


# ---------------------------------------------------------------------------------------------
# Tasks a lesson link can set (ui.common.lesson)
# ---------------------------------------------------------------------------------------------
def _edge_maximum(v: dict) -> tuple[bool, str]:
    """values: kernel (3, 3) float32, full feature map (26, 26), row, col."""
    full, row, col = np.asarray(v["full"]), int(v["row"]), int(v["col"])
    if not np.array_equal(np.asarray(v["kernel"], np.float32),
                          get_kernel("vertical_edge").astype(np.float32)):
        return False, _("load the vertical-edge kernel (unedited) first.")
    best = np.unravel_index(int(np.argmax(full)), full.shape)
    text = _("The map is {here} at row {row}, column {col}; its largest value is {best}.").format(
        here=approx(float(full[row, col])), row=row, col=col, best=approx(float(full[best])))
    return bool(full[row, col] >= full[best]), text


TASKS = (
    Task("edge_max", N_("With the vertical-edge kernel, move the kernel to the position where "
                        "the feature map is largest."), _edge_maximum),
)
