"""nn_core.basics.activations against keras.activations and tf.GradientTape, in float64."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import keras
import numpy as np
import pytest
import tensorflow as tf

from nn_core.basics.activations import (
    ACTIVATIONS,
    ALIASES,
    ELEMENTWISE_ACTIVATIONS,
    activate,
    activation_derivative,
    softmax,
    softmax_jacobian,
)

TOL = {"rtol": 1e-6, "atol": 1e-12}
REQUIRED = ("linear", "sigmoid", "relu", "tanh", "elu", "selu", "softplus", "softsign",
            "hard_sigmoid", "exponential", "leaky_relu", "gelu", "silu", "swish", "softmax")
# A dense grid to |x| = 50, every kink exactly (0, ±3, 6), and far tails that must not overflow.
KINKS = [0.0, -0.0, 3.0, -3.0, 6.0, -6.0, 1.0, -1.0, 1e-9, -1e-9, 1e-17, -1e-17, -0.7518]
GRID = np.concatenate([np.linspace(-50.0, 50.0, 2001), KINKS, [-700.0, 700.0, -200.0, 200.0]])
ELEMENTWISE = [k for k, a in ACTIVATIONS.items() if a.elementwise]


@contextlib.contextmanager
def strict_numpy() -> Iterator[None]:
    """Any overflow, division by zero, invalid operation or warning fails the test."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


def keras_value_and_grad(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """keras.activations.<name>(x) and d sum(f) / dx from GradientTape, float64."""
    t = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = keras.activations.get(name)(t)
    return y.numpy(), tape.gradient(y, t).numpy()


def test_table_covers_the_course_and_names_are_keras_identifiers() -> None:
    assert set(REQUIRED) <= set(ACTIVATIONS)
    for key, act in ACTIVATIONS.items():
        assert act.name == key
        assert keras.activations.get(key) is not None
        assert act.summary and "\n" not in act.summary and len(act.summary) < 100
    assert tuple(k for k in ACTIVATIONS if k != "softmax") == ELEMENTWISE_ACTIVATIONS
    assert not ACTIVATIONS["softmax"].elementwise
    for alias, target in ALIASES.items():
        assert keras.activations.get(alias) is keras.activations.get(target)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_values_equal_keras(name: str) -> None:
    expected, _ = keras_value_and_grad(name, GRID)
    with strict_numpy():
        got = activate(name, GRID)
    assert got.dtype == np.float64 and got.shape == GRID.shape
    np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivatives_equal_gradient_tape(name: str) -> None:
    """Including the side TF picks at each kink (relu'(0) = 0, leaky_relu'(0) = 0.2, ...)."""
    _, expected = keras_value_and_grad(name, GRID)
    with strict_numpy():
        got = activation_derivative(name, GRID)
    np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize("name", ["leaky_relu", "gelu"])
def test_float32_rounded_constants_match_to_the_last_digits(name: str) -> None:
    """TF rounds leaky_relu's 0.2 and gelu's 1/sqrt(2) to float32 even for float64 tensors."""
    x = np.linspace(-5.0, 5.0, 101)
    expected, slopes = keras_value_and_grad(name, x)
    np.testing.assert_allclose(activate(name, x), expected, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(activation_derivative(name, x), slopes, rtol=1e-11, atol=1e-16)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_extremes_are_finite_and_silent(name: str) -> None:
    x = np.array([-700.0, -50.0, -1e-300, 0.0, 1e-300, 50.0, 700.0])
    with strict_numpy():
        values, slopes = activate(name, x), activation_derivative(name, x)
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(slopes))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_shapes_scalars_and_lists(name: str) -> None:
    matrix = np.linspace(-4.0, 4.0, 12).reshape(3, 4)
    assert activate(name, matrix).shape == (3, 4)
    assert activation_derivative(name, matrix).shape == (3, 4)
    scalar = activate(name, 0.5)
    assert np.ndim(scalar) == 0
    np.testing.assert_allclose(activate(name, [0.5, -0.5])[0], scalar, rtol=1e-15)


SOFTMAX_INPUTS = [
    np.array([1.0, 2.0, 3.0]),
    np.array([[0.2, -1.0, 3.0, 0.0], [50.0, -50.0, 0.0, 49.0], [700.0, 699.0, -700.0, 0.0]]),
    np.linspace(-5.0, 5.0, 24).reshape(2, 3, 4),
    np.array([[1.0, 1.0]]),
]


@pytest.mark.parametrize("x", SOFTMAX_INPUTS, ids=lambda x: f"shape{x.shape}")
def test_softmax_equals_keras(x: np.ndarray) -> None:
    expected = keras.activations.softmax(tf.constant(x, dtype=tf.float64)).numpy()
    with strict_numpy():
        got, via_table = softmax(x), activate("softmax", x)
    np.testing.assert_allclose(got, expected, **TOL)
    np.testing.assert_allclose(via_table, expected, **TOL)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-14)


def test_softmax_axis_and_scalar() -> None:
    x = np.linspace(-2.0, 2.0, 6).reshape(2, 3)
    expected = keras.activations.softmax(tf.constant(x, dtype=tf.float64), axis=0).numpy()
    np.testing.assert_allclose(softmax(x, axis=0), expected, **TOL)
    assert softmax(3.0) == 1.0


@pytest.mark.parametrize("x", SOFTMAX_INPUTS[:2] + SOFTMAX_INPUTS[3:], ids=lambda x: f"{x.shape}")
def test_softmax_jacobian_and_diagonal_equal_gradient_tape(x: np.ndarray) -> None:
    rows = np.atleast_2d(x)
    t = tf.constant(rows, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = keras.activations.softmax(t)
    jac = tape.batch_jacobian(y, t).numpy()  # (n, k, k): d y_i / d x_j per row
    with strict_numpy():
        np.testing.assert_allclose(softmax_jacobian(rows), jac, **TOL)
        diagonal = activation_derivative("softmax", rows)
    np.testing.assert_allclose(diagonal, np.diagonal(jac, axis1=1, axis2=2), **TOL)
    if x.ndim == 1:
        np.testing.assert_allclose(softmax_jacobian(x), jac[0], **TOL)


def test_unknown_name_raises_value_error() -> None:
    with pytest.raises(ValueError, match=r"Unknown activation 'relu7'.*choose one of: .*sigmoid"):
        activate("relu7", [1.0])
    with pytest.raises(ValueError, match="Unknown activation"):
        activation_derivative("Sigmoid", [1.0])

