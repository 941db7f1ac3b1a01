"""The convolution page's state module: reading the kernel table, kernel choices, and the Keras
script, which is run here with the real Keras (one fresh interpreter, a few seconds)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from nn_core.cnn.convolution import KERNELS, feature_map, get_kernel, pool_windows
from nn_core.cnn.digits import load_mnist
from tests.support import run_script
from ui.convolution import state


def test_kernel_table_round_trips_and_bad_cells_are_named() -> None:
    table = state.kernel_table(get_kernel("sobel_x"))
    assert list(table.columns) == list(state.COLUMNS) and table.shape == (3, 3)
    np.testing.assert_array_equal(state.read_kernel(table), get_kernel("sobel_x"))
    text = table.astype(object)
    text.iat[2, 0] = "1,5"
    with pytest.raises(ValueError, match=r"Kernel row 2, column 0 holds '1,5'"):
        state.read_kernel(text)
    with pytest.raises(ValueError, match="must be 3×3"):
        state.read_kernel(pd.DataFrame({"col 0": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="must be 3×3"):
        state.read_kernel(None)


def test_kernel_choices_titles_and_weights() -> None:
    learned = (np.arange(9 * 4, dtype=np.float32).reshape(3, 3, 1, 4), np.arange(4.0) / 10)
    choices = state.kernel_choices(learned)
    assert choices == [*KERNELS, "learned_0", "learned_1", "learned_2", "learned_3"]
    assert state.kernel_choices(None) == list(KERNELS)
    assert state.kernel_title("learned_2") == "Learned filter 2 (shipped network)"
    assert state.kernel_title("sharpen") == "Sharpen"
    weights, bias = state.kernel_weights("learned_2", learned)
    np.testing.assert_array_equal(weights, learned[0][:, :, 0, 2])
    assert bias == pytest.approx(0.2)
    weights, bias = state.kernel_weights("blur", None)
    np.testing.assert_array_equal(weights, get_kernel("blur"))
    assert bias == 0.0
    with pytest.raises(ValueError, match="not available"):
        state.kernel_weights("learned_0", None)


def test_numbers_and_literals() -> None:
    assert state.num(2.7098040580749512) == "2.7098" and state.num(-0.0) == "0"
    pixel = float(np.float32(222 / 255))  # the lesson's precision; the Keras code's 6 digits
    assert (state.num(pixel), state.keras_digits(pixel)) == ("0.8706", "0.870588")
    assert state.keras_digits(2.7098040580749512) == "2.7098"
    assert state.literal(float(np.float32(1 / 9))) == "0.11111111"
    assert state.MAP_SHAPE == (26, 26) and state.POOLED_SHAPE == (13, 13)
    assert state.COLOR_MAP_SHAPE == (14, 14)


# keras.datasets.mnist.load_data() reads the shipped copy (no download in the tests)
OFFLINE = """import numpy as np
import keras
_d = np.load("assets/mnist.npz")
keras.datasets.mnist.load_data = lambda: ((_d["x_train"], _d["y_train"]),
                                          (_d["x_test"], _d["y_test"]))
"""


def test_keras_script_prints_what_the_page_shows() -> None:
    """Three settings, run by Keras in one interpreter: every printed number is the page's."""
    _, (x_test, _) = load_mnist()
    image = x_test[1024].astype(np.float32) / 255
    cases = [("vertical_edge", 0.0, "linear", (10, 10), "max", (5, 5), 1024),
             ("blur", -0.7, "linear", (13, 9), "avg", (6, 4), 1024),
             ("sobel_x", 0.3, "relu", (7, 12), "max", (3, 6), None)]  # None: the drawing path
    scripts, expected = [], []
    for name, bias, activation, position, kind, window, index in cases:
        kernel = state.as_dtype(get_kernel(name))
        bias32 = float(state.as_dtype(bias))
        full = feature_map(image, kernel, bias32, activation=activation)
        pooled = pool_windows(full, 2, kind, window).value
        expected += [f"feature map at ({position[0]}, {position[1]}): "
                     f"{state.keras_digits(float(full[position]))}",
                     f"pooled at ({window[0]}, {window[1]}): {state.keras_digits(pooled)}"]
        script = state.keras_script(image, index, kernel, bias32, activation, position, kind,
                                    window)
        scripts.append(script)
    assert "keras.layers.AveragePooling2D(2)" in scripts[1]
    assert 'activation="relu"' in scripts[2] and "x_test" not in scripts[2]
    code = OFFLINE + "".join(f"exec({s!r}, {{}})\n" for s in scripts)
    printed = [line for line in run_script(code).splitlines()
               if re.match(r"(feature map|pooled) at", line)]
    assert printed == expected


def test_every_setting_lives_under_the_pages_prefix() -> None:
    defaults = state.STATE.defaults()
    assert defaults and all(key.startswith("conv_") for key in defaults)
    assert defaults["conv_index"] == 1024 and defaults["conv_kernel"] == "vertical_edge"
    np.testing.assert_array_equal(state.read_kernel(defaults["conv_weights"]),
                                  get_kernel("vertical_edge"))
    assert defaults["conv_weights"] is not state.STATE.defaults()["conv_weights"]  # fresh copies
