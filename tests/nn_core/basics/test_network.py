"""The 2-2-1 network of lesson 002: the lesson's numbers, and equality with the real Keras model.

float32 (the default, Keras's default floatx) is checked against Keras at its defaults, bit for bit
where TensorFlow's float32 kernels round exactly (matmul, relu, mse, mae); float64 against Keras
in float64 at rtol 1e-6 or tighter.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from nn_core import course as d
from nn_core.basics.activations import ELEMENTWISE_ACTIVATIONS
from nn_core.basics.keras_code import forward_script
from nn_core.basics.losses import ONE_OUTPUT_LOSSES
from nn_core.basics.network import (
    WEIGHT_NAMES,
    Network,
    build_keras_network,
    format_keras,
    from_keras_weights,
    to_keras_weights,
)
from tests.support import run_script

W, X, T = d.FORWARD_WEIGHTS, d.FORWARD_INPUTS, d.FORWARD_TARGET
RNG = np.random.default_rng(d.SEED)
CASES = [(W, X)] + [(tuple(RNG.uniform(-1, 1, 6)), tuple(RNG.uniform(-3, 3, 2))) for _ in range(3)]
# the page's ranges: weights in [-2, 2], inputs in [-10, 10]
CASES32 = [(W, X)] + [(tuple(RNG.uniform(-2, 2, 6)), tuple(RNG.uniform(-10, 10, 2)))
                      for _ in range(8)]
F64 = "float64"




def _model(keras64, hidden: str, output: str, weights):
    model = build_keras_network(hidden, output)
    model.set_weights(to_keras_weights(weights))
    return model


def test_lesson_linear_numbers_in_exact_arithmetic():
    f = Network(W, X, dtype=F64).forward()
    assert f.n1_in == pytest.approx(2.154, abs=1e-9) and f.n1 == f.n1_in
    assert f.n2_in == pytest.approx(-8.846, abs=1e-9) and f.n2 == f.n2_in
    assert f.y == pytest.approx(1.8263, abs=1e-9) and f.y_in == f.y
    assert WEIGHT_NAMES == ("w1", "w2", "w3", "w4", "w5", "w6")


def test_lesson_numbers_as_keras_prints_them_in_float32():
    """The lesson's relu Y, MAE and MSE are Keras float32 output; the linear pass in float32
    is 2.1539998, -8.846, 1.8262999 (the lesson's 2.154 and 1.8263 are exact arithmetic)."""
    f = Network(W, X).forward()
    assert [format_keras(v) for v in (f.n1_in, f.n1, f.n2, f.y_in, f.y)] == [
        "2.1539998", "2.1539998", "-8.846", "1.8262999", "1.8262999"]
    relu = Network(W, X, hidden="relu", output="relu").forward()
    assert (format_keras(relu.y), format_keras(relu.n2_in), relu.n2) == ("2.0032198", "-8.846", 0)
    mae, _ = Network(W, X, target=T, hidden="relu", output="relu", loss="mae").loss_and_gradients()
    mse, _ = Network(W, X, target=T, hidden="relu", output="relu", loss="mse").loss_and_gradients()
    assert format_keras(mae) == "1.6632198"
    assert format_keras(mse) == "2.7663002" and format_keras(mse).startswith("2.7663")
    assert all(v == float(np.float32(v)) for v in (*vars(f).values(), mae, mse))


def test_lesson_relu_numbers_and_losses_in_exact_arithmetic():
    f = Network(W, X, hidden="relu", output="relu", dtype=F64).forward()
    assert (f.n1, f.n2) == (pytest.approx(2.154), 0.0)
    assert f.y == pytest.approx(2.00322, abs=1e-12)
    mae, _ = Network(W, X, target=T, hidden="relu", output="relu", loss="mae",
                     dtype=F64).loss_and_gradients()
    mse, _ = Network(W, X, target=T, hidden="relu", output="relu", loss="mse",
                     dtype=F64).loss_and_gradients()
    assert mae == pytest.approx(1.66322, abs=1e-12) and round(mse, 4) == 2.7663


@pytest.mark.parametrize("dtype", ["float32", F64])
@pytest.mark.parametrize(("act", "expected"), [("sigmoid", 0.69706), ("tanh", 0.70906)])
def test_lesson_squashing_numbers(act, expected, dtype):
    assert round(Network(W, X, hidden=act, output=act, dtype=dtype).forward().y, 5) == expected


@pytest.mark.parametrize(("value", "dtype", "text"), [
    (2.0032198, "float32", "2.0032198"), (1 / 3, "float32", "0.33333334"), (2.0, "float32", "2.0"),
    (1e-5, "float32", "1e-05"), (1 / 3, F64, "0.3333333333333333"), (1.8263, F64, "1.8263"),
    (1e39, "float32", "inf"),
])
def test_format_keras_prints_the_shortest_round_trip_digits(value, dtype, text):
    assert format_keras(value, dtype) == text


def _predict(model, x) -> np.float32:
    """Keras's Y for one sample, as the page's script gets it (a batch of one)."""
    return model.predict(np.array([x]), verbose=0)[0, 0]


@pytest.mark.parametrize("act", ["linear", "relu"])
def test_float32_equals_keras_predict_bit_for_bit(keras32, act):
    model = build_keras_network(act, act)
    first_layer = keras32.Model(model.inputs[0], model.layers[0].output)
    for weights, x in CASES32:
        model.set_weights(to_keras_weights(weights))
        f = Network(weights, x, hidden=act, output=act).forward()
        assert first_layer.predict(np.array([x]), verbose=0)[0].tolist() == [f.n1, f.n2]
        y = _predict(model, x)
        assert y.dtype == np.float32 and float(y) == f.y and str(y) == format_keras(f.y)


@pytest.mark.parametrize("hidden", ELEMENTWISE_ACTIVATIONS)
def test_float32_equals_keras_predict_within_float32_rounding(keras32, hidden):
    """TensorFlow's float32 tanh, sigmoid, gelu ... are not correctly rounded (up to ~9 ulp,
    tiny results flushed to zero); ours are float64 rounded once, so they agree to ~1e-6."""
    model = build_keras_network(hidden, "linear")
    first_layer = keras32.Model(model.inputs[0], model.layers[0].output)
    for weights, x in CASES32[:5]:
        model.set_weights(to_keras_weights(weights))
        f = Network(weights, x, hidden=hidden).forward()
        np.testing.assert_allclose(first_layer(np.array([x]))[0], [f.n1, f.n2], rtol=1.2e-6,
                                   atol=1e-6)
        scale = abs(f.n1 * weights[4]) + abs(f.n2 * weights[5])  # Y's size before cancelling
        assert abs(float(model(np.array([x]))[0, 0]) - f.y) <= 1.2e-6 * scale + 1e-6


@pytest.mark.parametrize("output", ["linear", "sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("hidden", ELEMENTWISE_ACTIVATIONS)
def test_keras_model_equals_forward_pass(keras64, hidden, output):
    model = build_keras_network(hidden, output)
    first_layer = keras64.Model(model.inputs[0], model.layers[0].output)
    for weights, x in CASES:
        model.set_weights(to_keras_weights(weights))
        f = Network(weights, x, hidden=hidden, output=output, dtype=F64).forward()
        hidden_out = first_layer(np.array([x]))
        np.testing.assert_allclose(np.asarray(hidden_out)[0], [f.n1, f.n2], rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(float(model(np.array([x]))[0, 0]), f.y, rtol=1e-6, atol=1e-12)


def test_predict_equals_forward_pass(keras64):
    model = _model(keras64, "sigmoid", "sigmoid", W)
    assert float(model.predict(np.array([X]), verbose=0)[0, 0]) == pytest.approx(
        Network(W, X, hidden="sigmoid", output="sigmoid", dtype=F64).forward().y, rel=1e-12)


def _tape_gradients(keras_, model, weights, x, target, loss):
    """Loss and dL/dw (6,) that TensorFlow's GradientTape gives on the Keras model."""
    import tensorflow as tf

    model.set_weights(to_keras_weights(weights))
    with tf.GradientTape() as tape:
        pred = model(np.array([x]))
        value = keras_.ops.mean(keras_.losses.get(loss)(np.array([[target]]), pred))
    grads = tape.gradient(value, model.trainable_variables)
    return float(value), from_keras_weights([np.asarray(g) for g in grads])


@pytest.mark.parametrize("act", ["linear", "relu"])
@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_float32_loss_and_gradients_equal_gradient_tape_bit_for_bit(keras32, act, loss):
    model = build_keras_network(act, act)
    for weights, x in CASES32:
        value, grads = Network(weights, x, target=T, hidden=act, output=act,
                               loss=loss).loss_and_gradients()
        k_value, k_grads = _tape_gradients(keras32, model, weights, x, T, loss)
        assert (value, grads.tolist()) == (k_value, k_grads.tolist())


@pytest.mark.parametrize(("hidden", "output", "loss"), [
    *(("tanh", "sigmoid", loss) for loss in ONE_OUTPUT_LOSSES),
    *((hidden, "linear", "mse") for hidden in ELEMENTWISE_ACTIVATIONS),
])
def test_float32_loss_and_gradients_equal_gradient_tape(keras32, hidden, output, loss):
    """Within float32 rounding: TensorFlow's float32 kernels are a few ulp off, and a difference
    such as log_cosh's or (t - Y) can lose digits, so the tolerance is relative to the largest
    value involved."""
    model = build_keras_network(hidden, output)
    for weights, x in CASES[:2]:
        value, grads = Network(weights, x, target=T, hidden=hidden, output=output,
                               loss=loss).loss_and_gradients()
        k_value, k_grads = _tape_gradients(keras32, model, weights, x, T, loss)
        assert value == pytest.approx(k_value, rel=2e-5, abs=1e-7)
        np.testing.assert_allclose(grads, k_grads, rtol=1e-6, atol=1e-5 * np.abs(k_grads).max())


@pytest.mark.parametrize("loss", ONE_OUTPUT_LOSSES)
def test_gradients_equal_gradient_tape_for_every_loss(keras64, loss):
    model = build_keras_network("tanh", "sigmoid")
    for weights, x in CASES[:2]:
        value, grads = Network(weights, x, target=T, hidden="tanh", output="sigmoid", loss=loss,
                               dtype=F64).loss_and_gradients()
        k_value, k_grads = _tape_gradients(keras64, model, weights, x, T, loss)
        assert value == pytest.approx(k_value, rel=1e-6)
        np.testing.assert_allclose(grads, k_grads, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("hidden", ELEMENTWISE_ACTIVATIONS)
@pytest.mark.parametrize(("output", "loss"), [("linear", "mse"), ("relu", "mae")])
def test_gradients_equal_gradient_tape_for_every_activation(keras64, hidden, output, loss):
    model = build_keras_network(hidden, output)
    for weights, x in CASES:
        value, grads = Network(weights, x, target=T, hidden=hidden, output=output, loss=loss,
                               dtype=F64).loss_and_gradients()
        k_value, k_grads = _tape_gradients(keras64, model, weights, x, T, loss)
        assert value == pytest.approx(k_value, rel=1e-6, abs=1e-12)
        np.testing.assert_allclose(grads, k_grads, rtol=1e-6, atol=1e-12)


def _keras_sgd_step(keras_, hidden: str, output: str, loss: str, lr: float) -> np.ndarray:
    """w1..w6 (6,) after Keras's SGD(lr) takes one step on the lesson's example."""
    import tensorflow as tf

    model = _model(keras_, hidden, output, W)
    with tf.GradientTape() as tape:
        value = keras_.ops.mean(keras_.losses.get(loss)(np.array([[T]]), model(np.array([X]))))
    keras_.optimizers.SGD(lr).apply_gradients(zip(
        tape.gradient(value, model.trainable_variables), model.trainable_variables, strict=True))
    return from_keras_weights(model.get_weights())


def test_training_step_equals_keras_sgd_and_lowers_the_loss(keras64):
    new = Network(W, X, target=T, hidden="linear", output="linear", loss="mse",
                  dtype=F64).training_step(0.01)
    np.testing.assert_allclose(new, _keras_sgd_step(keras64, "linear", "linear", "mse", 0.01),
                               rtol=1e-12)
    # The inputs (7.2, -5.8) make the bowl steep: lr 0.01 overshoots (2.209 -> 9.23), 0.001 not.
    assert Network(new, X, target=T).loss_and_gradients()[0] > Network(W, X,
                                                                       target=T).loss_and_gradients()[0]
    smaller = Network(W, X, target=T, hidden="linear", output="linear",
                      loss="mse").training_step(d.FORWARD_LEARNING_RATE)
    assert Network(smaller, X, target=T).loss_and_gradients()[0] < Network(W, X,
                                                                           target=T).loss_and_gradients()[0]


@pytest.mark.parametrize(("act", "loss"), [("linear", "mse"), ("relu", "mae")])
def test_float32_training_step_equals_keras_sgd_bit_for_bit(keras32, act, loss):
    lr = d.FORWARD_LEARNING_RATE
    new = Network(W, X, target=T, hidden=act, output=act, loss=loss).training_step(lr)
    assert new.tolist() == _keras_sgd_step(keras32, act, act, loss, lr).tolist()


def test_keras_layout_round_trip(keras64):
    weights = np.array([0.1, -0.2, 0.3, -0.4, 0.5, -0.6])
    arrays = to_keras_weights(weights)
    np.testing.assert_array_equal(arrays[0], [[0.1, 0.3], [-0.2, -0.4]])
    np.testing.assert_array_equal(arrays[1], [[0.5], [-0.6]])
    np.testing.assert_array_equal(from_keras_weights(arrays), weights)
    model = _model(keras64, "linear", "linear", weights)
    np.testing.assert_array_equal(from_keras_weights(model.get_weights()), weights)


def _run_script(code: str) -> dict[str, str]:
    """Run a generated Keras script in a fresh Python; what it prints as ``Y`` and ``loss``."""
    return dict(re.findall(r"^(Y|loss) = (\S+)$", run_script(code), re.M))


def test_keras_code_float32_prints_exactly_the_page_s_strings():
    code = forward_script(Network(W, X, target=T, hidden="relu", output="relu", loss="mse"))
    assert "set_floatx" not in code and "set_dtype_policy" not in code  # Keras's defaults
    value, _ = Network(W, X, target=T, hidden="relu", output="relu",
                       loss="mse").loss_and_gradients()
    y = Network(W, X, hidden="relu", output="relu").forward().y
    expected = {"Y": format_keras(y), "loss": format_keras(value)}
    assert _run_script(code) == expected == {"Y": "2.0032198", "loss": "2.7663002"}


def test_keras_code_float64_prints_the_same_numbers():
    code = forward_script(Network(W, X, target=T, hidden="relu", output="sigmoid", loss="mae",
                                  dtype=F64))
    f = Network(W, X, hidden="relu", output="sigmoid", dtype=F64).forward()
    value, _ = Network(W, X, target=T, hidden="relu", output="sigmoid", loss="mae",
                       dtype=F64).loss_and_gradients()
    assert _run_script(code) == {"Y": f"{f.y:.7f}", "loss": f"{value:.7f}"}



@pytest.mark.parametrize(("call", "message"), [
    (lambda: Network(W[:5], X).forward(), "6 numbers"),
    (lambda: Network((*W, 1.0), X).forward(), "6 numbers"),
    (lambda: Network(W, (1.0, 2.0, 3.0)).forward(), "2 numbers"),
    (lambda: Network((np.nan, *W[1:]), X).forward(), "finite"),
    (lambda: Network(W, (np.inf, 1.0)).forward(), "finite"),
    (lambda: Network(W, X, hidden="nope").forward(), "hidden activation"),
    (lambda: Network(W, X, hidden="linear", output="softmax").forward(), "output activation"),
    (lambda: Network(W, X, target=np.nan).loss_and_gradients(), "finite"),
    (lambda: Network(W, X, target=T, loss="nope").loss_and_gradients(), "unknown loss"),
    (lambda: Network(W, X, target=T, loss="categorical_crossentropy").loss_and_gradients(),
     "unknown loss"),
    (lambda: Network(W, X, target=T, loss="cosine_similarity").loss_and_gradients(),
     "unknown loss"),
    (lambda: Network(W, X, target=T).training_step(np.inf), "learning_rate"),
    (lambda: from_keras_weights([np.zeros((2, 2))]), "2 weight arrays"),
    (lambda: from_keras_weights([np.zeros((2, 2)), np.zeros((2, 2))]), "shape"),
    (lambda: build_keras_network("nope", "linear"), "hidden activation"),
    (lambda: forward_script(Network(W, X, target=T, loss="nope")), "unknown loss"),
    (lambda: Network(W, X, dtype="float16").forward(), "unknown dtype"),
    (lambda: forward_script(Network(W, X, target=T, dtype="bfloat16")), "unknown dtype"),
    (lambda: forward_script(Network(W, (1.0, 2.0, 3.0), target=T)), "2 numbers"),
    (lambda: Network((1e39, *W[1:]), X).forward(), "finite in float32"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
