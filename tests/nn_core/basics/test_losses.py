"""The losses against keras.losses (functions and classes) and tf.GradientTape, in float64."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import keras
import numpy as np
import pytest
import tensorflow as tf

from nn_core.basics.losses import (
    BINARY_LOSSES,
    LOSSES,
    REGRESSION_LOSSES,
    loss_gradient,
    loss_value,
)

TOL = {"rtol": 1e-6, "atol": 1e-12}
CLASSES = {  # table key -> the keras.losses class whose default reduction loss_value matches
    "mae": "MeanAbsoluteError",
    "mse": "MeanSquaredError",
    "huber": "Huber",
    "log_cosh": "LogCosh",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
    "poisson": "Poisson",
    "cosine_similarity": "CosineSimilarity",
    "binary_crossentropy": "BinaryCrossentropy",
    "hinge": "Hinge",
    "squared_hinge": "SquaredHinge",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "kl_divergence": "KLDivergence",
    "categorical_hinge": "CategoricalHinge",
}
REQUIRED = ("mae", "mse", "binary_crossentropy", "categorical_crossentropy",
            "sparse_categorical_crossentropy", "huber", "log_cosh",
            "mean_squared_logarithmic_error", "mean_absolute_percentage_error", "hinge",
            "squared_hinge", "poisson", "kl_divergence")


@contextlib.contextmanager
def strict_numpy() -> Iterator[None]:
    """Any overflow, division by zero, invalid operation or warning fails the test."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


def _probabilities(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Rows of softmax probabilities (n, k), with exact 0 and 1 and an unnormalised row."""
    p = np.exp(rng.normal(size=(n, k)) * 2.0)
    p /= p.sum(axis=1, keepdims=True)
    p[0] = np.eye(k)[0]  # clipped at 1 - eps and at eps
    p[1, 1] = 0.0  # clipped at eps (the row still sums to < 1)
    p[2] *= 1.5  # categorical_crossentropy renormalises; the others do not
    return p


def make_case(name: str, shape: tuple[int, ...], seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_pred) for one loss: values inside, at and beyond Keras's clips and kinks."""
    rng = np.random.default_rng(seed)
    n, k = (shape[0], shape[1]) if len(shape) == 2 else (1, shape[0])
    flat = n * k
    rows = slice(None) if len(shape) == 2 else 1  # 1-D: one sample, the row with a zero
    if name == "sparse_categorical_crossentropy":
        p = _probabilities(rng, max(n, 4), k)
        labels = rng.integers(0, k, size=max(n, 4)).astype(float)
        labels[:2] = [0, 1]  # the true class at the clip limits
        return labels[rows], p[rows]
    if name in ("categorical_crossentropy", "kl_divergence", "cosine_similarity"):
        p = _probabilities(rng, max(n, 4), k)
        if name == "categorical_crossentropy":
            t = np.eye(k)[rng.integers(0, k, size=max(n, 4))]
            t[-1] = 1.0 / k  # soft labels are allowed too
        else:
            t = _probabilities(rng, max(n, 4), k)
            if name == "cosine_similarity":
                t, p = t - 0.3, p - 0.2  # any vectors, of any sign
                p[3] *= 1e-9  # norm below eps: Keras caps 1 / norm at 1 / eps
        return t[rows], p[rows]
    if name == "categorical_hinge":
        t = np.eye(k)[rng.integers(0, k, size=max(n, 4))]
        p = rng.normal(size=(max(n, 4), k))
        p[0] = 0.25  # every score tied: TF splits the max's gradient among them
        p[1] = 2.0 * t[1] - 1.0  # margin exactly 0
        return t[rows], p[rows]
    if name == "binary_crossentropy":
        t = rng.integers(0, 2, size=flat).astype(float)
        t[:2] = [0.3, 0.8]  # soft labels
        p = rng.uniform(0.0, 1.0, size=flat)
        p[2:6] = [0.0, 1.0, 1e-9, 1.0 - 1e-9]  # clipped: zero gradient
        return t.reshape(shape), p.reshape(shape)
    if name in ("hinge", "squared_hinge"):
        t = rng.integers(0, 2, size=flat).astype(float)  # 0/1: Keras converts to -1/1
        p = rng.normal(size=flat) * 1.5
        p[:2] = 2.0 * t[:2] - 1.0  # margin exactly 0
        return t.reshape(shape), p.reshape(shape)
    if name == "poisson":
        t = rng.poisson(2.0, size=flat).astype(float)
        p = rng.uniform(0.0, 4.0, size=flat)
        p[0] = 0.0
        return t.reshape(shape), p.reshape(shape)
    t = rng.normal(size=flat) * 2.0
    p = rng.normal(size=flat) * 2.0
    p[0] = t[0]  # zero error: |.| and sign pick 0
    p[1] = t[1] + 1.0  # huber's delta exactly
    t[2], p[3] = 0.0, -1e-9  # mape divides by eps; msle clips below eps
    t[4], p[4] = 1.0, 1.000000005e-7  # msle clips it too: its eps is float32(1e-7)
    return t.reshape(shape), p.reshape(shape)


SHAPES = {  # per loss: 2-D (n, k) and 1-D cases; cosine also (n, k) with k = 1 is degenerate
    "categorical": [(6, 4), (4,)],
    "regression": [(6, 3), (8,), (7, 1)],
    "binary": [(6, 3), (8,), (7, 1)],
}
CASES = [(name, shape) for name, loss in LOSSES.items() for shape in SHAPES[loss.kind]
         if not (name == "cosine_similarity" and shape[-1] == 1)]


def _id(case: tuple[str, tuple[int, ...]]) -> str:
    return f"{case[0]}-{'x'.join(map(str, case[1]))}"


def keras_class(name: str) -> keras.losses.Loss:
    return getattr(keras.losses, CLASSES[name])(dtype="float64")


def tf64(x: np.ndarray) -> tf.Tensor:
    return tf.constant(x, dtype=tf.float64)


def test_table_covers_the_course_and_names_are_keras_identifiers() -> None:
    assert set(REQUIRED) <= set(LOSSES)
    assert set(CLASSES) == set(LOSSES)
    for key, loss in LOSSES.items():
        assert loss.name == key
        assert keras.losses.get(key) is not None
        assert loss.kind in ("regression", "binary", "categorical")
        assert loss.summary and "\n" not in loss.summary and len(loss.summary) < 110
    assert {"mse", "mae", "huber", "log_cosh"} <= set(REGRESSION_LOSSES)
    assert all(LOSSES[k].kind == "regression" for k in REGRESSION_LOSSES)
    assert set(BINARY_LOSSES) == {"binary_crossentropy", "hinge", "squared_hinge"}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_per_sample_values_equal_keras_function(case: tuple[str, tuple[int, ...]]) -> None:
    name, shape = case
    y_true, y_pred = make_case(name, shape)
    expected = keras.losses.get(name)(tf64(y_true), tf64(y_pred)).numpy()
    with strict_numpy():
        got = LOSSES[name].fn(y_true, y_pred)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_mean_and_gradient_equal_keras_class(case: tuple[str, tuple[int, ...]]) -> None:
    name, shape = case
    y_true, y_pred = make_case(name, shape)
    t, p = tf64(y_true), tf64(y_pred)
    with tf.GradientTape() as tape:
        tape.watch(p)
        expected = keras_class(name)(t, p)
    expected_grad = tape.gradient(expected, p).numpy()
    with strict_numpy():
        value, grad = loss_value(name, y_true, y_pred), loss_gradient(name, y_true, y_pred)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, expected.numpy(), **TOL)
    assert grad.shape == y_pred.shape
    np.testing.assert_allclose(grad, expected_grad, **TOL)
    np.testing.assert_allclose(LOSSES[name].gradient(y_true, y_pred), expected_grad, **TOL)


@pytest.mark.parametrize("name", list(REGRESSION_LOSSES) + list(BINARY_LOSSES))
@pytest.mark.parametrize("swap", [False, True], ids=["pred(n,1)", "true(n,1)"])
def test_rank_mismatch_is_aligned_like_keras(name: str, swap: bool) -> None:
    """Model outputs (n, 1) against targets (n,) (or the other way round), as in model.fit."""
    y_true, y_pred = make_case(name, (7,))
    y_true, y_pred = (y_true[:, None], y_pred) if swap else (y_true, y_pred[:, None])
    t, p = tf64(y_true), tf64(y_pred)
    with tf.GradientTape() as tape:
        tape.watch(p)
        expected = keras_class(name)(t, p)
    with strict_numpy():
        grad = loss_gradient(name, y_true, y_pred)
    np.testing.assert_allclose(loss_value(name, y_true, y_pred), expected.numpy(), **TOL)
    assert grad.shape == y_pred.shape
    np.testing.assert_allclose(grad, tape.gradient(expected, p).numpy(), **TOL)


def test_sparse_labels_as_column_and_scalars_for_one_sample() -> None:
    y_true, y_pred = make_case("sparse_categorical_crossentropy", (6, 4))
    column = y_true[:, None]
    expected = keras_class("sparse_categorical_crossentropy")(tf64(column), tf64(y_pred))
    np.testing.assert_allclose(
        loss_value("sparse_categorical_crossentropy", column, y_pred), expected.numpy(), **TOL
    )
    # One target, one prediction (the 2-2-1 network of lesson 002): plain floats work.
    expected = keras.losses.MeanSquaredError(dtype="float64")(tf64([0.34]), tf64([2.0032198]))
    np.testing.assert_allclose(loss_value("mse", 0.34, 2.0032198), expected.numpy(), **TOL)
    np.testing.assert_allclose(loss_value("mae", 0.34, 2.0032198), 1.6632198, rtol=1e-12)
    assert np.ndim(loss_gradient("mse", 0.34, 2.0032198)) == 0


def test_keras_quirks() -> None:
    """Clipping at 1e-7, 0/1 labels turned into -1/1 for hinge, float32-rounded log(2)."""
    eps = 1e-7
    np.testing.assert_allclose(loss_value("binary_crossentropy", [1.0], [0.0]), -np.log(eps))
    np.testing.assert_allclose(loss_value("hinge", [0.0, 1.0], [0.5, 0.5]), 1.0)
    np.testing.assert_allclose(loss_value("hinge", [0.0, 0.5], [0.5, 0.5]), 0.875)  # unconverted
    assert loss_value("log_cosh", [1.0], [1.0]) == pytest.approx(np.log(2) - np.float32(np.log(2)))
    assert np.all(loss_gradient("categorical_crossentropy", [0.0, 1.0], [0.0, 1.0]) == 0.0)


def test_unknown_name_and_bad_input_raise_value_error() -> None:
    with pytest.raises(ValueError, match=r"Unknown loss 'rmse'.*choose one of: .*mse"):
        loss_value("rmse", [1.0], [1.0])
    with pytest.raises(ValueError, match="Unknown loss"):
        loss_gradient("MSE", [1.0], [1.0])
    with pytest.raises(ValueError, match="does not match"):
        loss_value("mse", [1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="integers in"):
        loss_value("sparse_categorical_crossentropy", [3], [[0.2, 0.3, 0.5]])
    with pytest.raises(ValueError, match="does not fit"):
        loss_value("sparse_categorical_crossentropy", [0, 1], [[0.2, 0.3, 0.5]])

