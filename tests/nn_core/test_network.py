"""The 2-2-1 network of lesson 002: the lesson's numbers, and equality with the real Keras model."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from nn_core import defaults as d
from nn_core.activations import ELEMENTWISE_ACTIVATIONS
from nn_core.network import (
    ONE_OUTPUT_LOSSES,
    WEIGHT_NAMES,
    build_keras_model,
    forward_pass,
    from_keras_weights,
    keras_code,
    loss_and_gradients,
    to_keras_weights,
    training_step,
)

W, X, T = d.FORWARD_WEIGHTS, d.FORWARD_INPUTS, d.FORWARD_TARGET
RNG = np.random.default_rng(d.SEED)
CASES = [(W, X)] + [(tuple(RNG.uniform(-1, 1, 6)), tuple(RNG.uniform(-3, 3, 2))) for _ in range(3)]


@pytest.fixture
def keras64():
    """Keras with float64 layers (tight comparisons); restores the previous settings afterwards.

    set_floatx alone is not enough: Keras fixes its global dtype policy the first time any
    layer asks for it, so the policy is set too.
    """
    import keras

    old = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield keras
    keras.config.set_floatx(old[0])
    keras.config.set_dtype_policy(old[1])


def _model(keras64, hidden: str, output: str, weights):
    model = build_keras_model(hidden, output)
    model.set_weights(to_keras_weights(weights))
    return model


def test_lesson_linear_numbers():
    f = forward_pass(W, X)
    assert f.n1_in == pytest.approx(2.154, abs=1e-9) and f.n1 == f.n1_in
    assert f.n2_in == pytest.approx(-8.846, abs=1e-9) and f.n2 == f.n2_in
    assert f.y == pytest.approx(1.8263, abs=1e-9) and f.y_in == f.y
    assert WEIGHT_NAMES == ("w1", "w2", "w3", "w4", "w5", "w6")


def test_lesson_relu_numbers_and_losses():
    # The lesson prints Keras's float32 result 2.0032198; in exact arithmetic it is 2.00322.
    f = forward_pass(W, X, "relu", "relu")
    assert (f.n1, f.n2) == (pytest.approx(2.154), 0.0)
    assert f.y == pytest.approx(2.0032198, abs=5e-7)
    mae, _ = loss_and_gradients(W, X, T, "relu", "relu", "mae")
    mse, _ = loss_and_gradients(W, X, T, "relu", "relu", "mse")
    assert mae == pytest.approx(1.6632198, abs=5e-7)
    assert round(mse, 4) == 2.7663


@pytest.mark.parametrize(("act", "expected"), [("sigmoid", 0.69706), ("tanh", 0.70906)])
def test_lesson_squashing_numbers(act, expected):
    assert round(forward_pass(W, X, act, act).y, 5) == expected


def test_lesson_float32_keras_prints_the_lesson_digits():
    """Keras's default float32 gives exactly the lesson's 2.0032198 (relu)."""
    model = build_keras_model("relu", "relu")
    model.set_weights([a.astype("float32") for a in to_keras_weights(W)])
    assert round(float(model(np.array([X], dtype="float32"))[0, 0]), 7) == 2.0032198


@pytest.mark.parametrize("output", ["linear", "sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("hidden", ELEMENTWISE_ACTIVATIONS)
def test_keras_model_equals_forward_pass(keras64, hidden, output):
    model = build_keras_model(hidden, output)
    first_layer = keras64.Model(model.inputs[0], model.layers[0].output)
    for weights, x in CASES:
        model.set_weights(to_keras_weights(weights))
        f = forward_pass(weights, x, hidden, output)
        hidden_out = first_layer(np.array([x]))
        np.testing.assert_allclose(np.asarray(hidden_out)[0], [f.n1, f.n2], rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(float(model(np.array([x]))[0, 0]), f.y, rtol=1e-6, atol=1e-12)


def test_predict_equals_forward_pass(keras64):
    model = _model(keras64, "sigmoid", "sigmoid", W)
    assert float(model.predict(np.array([X]), verbose=0)[0, 0]) == pytest.approx(
        forward_pass(W, X, "sigmoid", "sigmoid").y, rel=1e-12)


def _tape_gradients(keras64, model, weights, x, target, loss):
    """Loss and dL/dw (6,) that TensorFlow's GradientTape gives on the Keras model."""
    import tensorflow as tf

    model.set_weights(to_keras_weights(weights))
    with tf.GradientTape() as tape:
        pred = model(np.array([x]))
        value = keras64.ops.mean(keras64.losses.get(loss)(np.array([[target]]), pred))
    grads = tape.gradient(value, model.trainable_variables)
    return float(value), from_keras_weights([np.asarray(g) for g in grads])


@pytest.mark.parametrize("loss", ONE_OUTPUT_LOSSES)
def test_gradients_equal_gradient_tape_for_every_loss(keras64, loss):
    model = build_keras_model("tanh", "sigmoid")
    for weights, x in CASES[:2]:
        value, grads = loss_and_gradients(weights, x, T, "tanh", "sigmoid", loss)
        k_value, k_grads = _tape_gradients(keras64, model, weights, x, T, loss)
        assert value == pytest.approx(k_value, rel=1e-6)
        np.testing.assert_allclose(grads, k_grads, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("hidden", ELEMENTWISE_ACTIVATIONS)
@pytest.mark.parametrize(("output", "loss"), [("linear", "mse"), ("relu", "mae")])
def test_gradients_equal_gradient_tape_for_every_activation(keras64, hidden, output, loss):
    model = build_keras_model(hidden, output)
    for weights, x in CASES:
        value, grads = loss_and_gradients(weights, x, T, hidden, output, loss)
        k_value, k_grads = _tape_gradients(keras64, model, weights, x, T, loss)
        assert value == pytest.approx(k_value, rel=1e-6, abs=1e-12)
        np.testing.assert_allclose(grads, k_grads, rtol=1e-6, atol=1e-12)


def test_training_step_equals_keras_sgd_and_lowers_the_loss(keras64):
    import tensorflow as tf

    new = training_step(W, X, T, "linear", "linear", "mse", 0.01)
    model = _model(keras64, "linear", "linear", W)
    opt = keras64.optimizers.SGD(0.01)
    with tf.GradientTape() as tape:
        value = keras64.ops.mean(keras64.losses.get("mse")(np.array([[T]]), model(np.array([X]))))
    opt.apply_gradients(zip(tape.gradient(value, model.trainable_variables),
                            model.trainable_variables, strict=True))
    np.testing.assert_allclose(new, from_keras_weights(model.get_weights()), rtol=1e-12)
    # The inputs (7.2, -5.8) make the bowl steep: lr 0.01 overshoots (2.209 -> 9.23), 0.001 not.
    assert loss_and_gradients(new, X, T)[0] > loss_and_gradients(W, X, T)[0]
    smaller = training_step(W, X, T, "linear", "linear", "mse", 0.001)
    assert loss_and_gradients(smaller, X, T)[0] < loss_and_gradients(W, X, T)[0]


def test_keras_layout_round_trip(keras64):
    weights = np.array([0.1, -0.2, 0.3, -0.4, 0.5, -0.6])
    arrays = to_keras_weights(weights)
    np.testing.assert_array_equal(arrays[0], [[0.1, 0.3], [-0.2, -0.4]])
    np.testing.assert_array_equal(arrays[1], [[0.5], [-0.6]])
    np.testing.assert_array_equal(from_keras_weights(arrays), weights)
    model = _model(keras64, "linear", "linear", weights)
    np.testing.assert_array_equal(from_keras_weights(model.get_weights()), weights)


@pytest.mark.parametrize(("hidden", "output", "loss"),
                         [("linear", "linear", "mse"), ("relu", "sigmoid", "mae")])
def test_keras_code_prints_the_same_numbers(hidden, output, loss):
    code = keras_code(W, X, T, hidden, output, loss)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300, check=True)
    f = forward_pass(W, X, hidden, output)
    value, _ = loss_and_gradients(W, X, T, hidden, output, loss)
    assert re.search(r"^Y = (\S+)$", run.stdout, re.M).group(1) == f"{f.y:.7f}"
    assert re.search(r"^loss = (\S+)$", run.stdout, re.M).group(1) == f"{value:.7f}"


def test_import_does_not_load_tensorflow():
    code = "import sys, nn_core.network, nn_core.descent; print('tensorflow' in sys.modules, " \
           "'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: forward_pass(W[:5], X), "6 numbers"),
    (lambda: forward_pass((*W, 1.0), X), "6 numbers"),
    (lambda: forward_pass(W, (1.0, 2.0, 3.0)), "2 numbers"),
    (lambda: forward_pass((np.nan, *W[1:]), X), "finite"),
    (lambda: forward_pass(W, (np.inf, 1.0)), "finite"),
    (lambda: forward_pass(W, X, "nope"), "hidden activation"),
    (lambda: forward_pass(W, X, "linear", "softmax"), "output activation"),
    (lambda: loss_and_gradients(W, X, np.nan), "finite"),
    (lambda: loss_and_gradients(W, X, T, loss="nope"), "unknown loss"),
    (lambda: loss_and_gradients(W, X, T, loss="categorical_crossentropy"), "unknown loss"),
    (lambda: loss_and_gradients(W, X, T, loss="cosine_similarity"), "unknown loss"),
    (lambda: training_step(W, X, T, learning_rate=np.inf), "learning_rate"),
    (lambda: from_keras_weights([np.zeros((2, 2))]), "2 weight arrays"),
    (lambda: from_keras_weights([np.zeros((2, 2)), np.zeros((2, 2))]), "shape"),
    (lambda: build_keras_model("nope", "linear"), "hidden activation"),
    (lambda: keras_code(W, X, T, loss="nope"), "unknown loss"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
