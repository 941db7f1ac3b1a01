"""The 10-output layer against keras.activations.softmax, keras.losses and tf.GradientTape."""

from __future__ import annotations

import re
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from nn_core.basics.activations import ACTIVATIONS
from nn_core.basics.classification import (
    ACTIVATION_LATEX,
    LATEX_ALIASES,
    LOSS_LATEX,
    activation_latex,
    classification_view,
    loss_latex,
    one_hot,
)
from nn_core.basics.losses import LOSSES

TOL = {"rtol": 1e-12, "atol": 1e-14}
CASES = [(seed, scale) for seed in range(6) for scale in (0.5, 3.0)]


def tf64(x: np.ndarray) -> tf.Tensor:
    return tf.constant(x, dtype=tf.float64)


def keras_numbers(probabilities: np.ndarray, label: int) -> dict[str, float]:
    """keras.losses on the probabilities as plain numbers (from_logits=False: clipped)."""
    p, onehot = tf64(probabilities[None]), tf64(np.eye(probabilities.size)[label][None])
    return {
        "categorical_crossentropy": keras.losses.CategoricalCrossentropy(dtype="float64")(
            onehot, p).numpy(),
        "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy(
            dtype="float64")(tf64(np.array([label])), p).numpy(),
        "kl_divergence": keras.losses.KLDivergence(dtype="float64")(onehot, p).numpy(),
    }


def keras_training(logits: np.ndarray, label: int) -> dict[str, np.ndarray]:
    """Keras's training path: softmax activation, then the crossentropy and d loss / d logits."""
    z, onehot = tf64(logits[None]), tf64(np.eye(logits.size)[label][None])
    with tf.GradientTape() as tape:
        tape.watch(z)
        p = keras.activations.softmax(z)
        cce = keras.losses.CategoricalCrossentropy(dtype="float64")(onehot, p)
    sparse = keras.losses.SparseCategoricalCrossentropy(dtype="float64")(
        tf64(np.array([label])), keras.activations.softmax(z))
    return {"probabilities": p.numpy()[0], "categorical_crossentropy": cce.numpy(),
            "sparse_categorical_crossentropy": sparse.numpy(),
            "gradient": tape.gradient(cce, z).numpy()[0]}


def check_against_keras(logits: np.ndarray, label: int) -> Any:
    view = classification_view(logits, label)
    numbers, training = keras_numbers(view.probabilities, label), keras_training(logits, label)
    np.testing.assert_allclose(view.probabilities, training["probabilities"], **TOL)
    for name, expected in numbers.items():
        assert isinstance(getattr(view, name), float)
        np.testing.assert_allclose(getattr(view, name), expected, **TOL)
    for name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        np.testing.assert_allclose(view.logits_crossentropy, training[name], **TOL)
    np.testing.assert_allclose(view.gradient, training["gradient"], **TOL)
    return view


@pytest.mark.parametrize(("seed", "scale"), CASES)
def test_view_equals_keras(seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    logits, label = rng.normal(size=10) * scale, int(rng.integers(10))
    view = check_against_keras(logits, label)
    assert view.label == label and view.predicted == int(np.argmax(logits))
    np.testing.assert_array_equal(view.logits, logits)
    np.testing.assert_array_equal(view.onehot, np.eye(10)[label])
    assert np.isclose(view.probabilities.sum(), 1.0, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(view.gradient, view.probabilities - view.onehot)
    assert np.isclose(view.logits_crossentropy, -np.log(view.probabilities[label]), rtol=1e-12)
    if not view.clipped:  # the numbers and the logits give the same crossentropy
        for name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
            np.testing.assert_allclose(getattr(view, name), view.logits_crossentropy, **TOL)
    # Keras's kld clips the one-hot's zeros to 1e-7 as well, so it differs a little
    assert 0 < view.categorical_crossentropy - view.kl_divergence < 1e-4


@pytest.mark.parametrize("true_logit", [-30.0, 30.0], ids=["hopelessly-wrong", "sure-right"])
def test_clipped_probabilities(true_logit: float) -> None:
    logits = np.zeros(10)
    logits[4] = true_logit
    view = check_against_keras(logits, 4)
    assert view.clipped
    if true_logit < 0:  # from the numbers the loss stops at -log(1e-7); the logits go on
        assert np.isclose(view.categorical_crossentropy, -np.log(1e-7))
        assert view.logits_crossentropy > 30
    assert classification_view(np.zeros(10), 4).clipped is False


def test_other_sizes_and_bad_input() -> None:
    view = classification_view([2.0, 0.0, -1.0], 0)
    assert view.probabilities.shape == view.gradient.shape == (3,)
    np.testing.assert_array_equal(one_hot(3), np.eye(10)[3])
    with pytest.raises(ValueError, match="between 0 and 9"):
        classification_view(np.zeros(10), 10)
    with pytest.raises(ValueError, match="whole number"):
        classification_view(np.zeros(10), 1.5)
    with pytest.raises(ValueError, match="vector"):
        classification_view(np.zeros((2, 10)), 1)
    with pytest.raises(ValueError, match="finite"):
        classification_view([0.0, np.inf], 1)


def test_latex_covers_every_activation_and_loss() -> None:
    assert set(ACTIVATION_LATEX) == set(ACTIVATIONS)
    assert set(LOSS_LATEX) == set(LOSSES)
    assert ACTIVATION_LATEX["sigmoid"] == r"\sigma(x) = \frac{1}{1 + e^{-x}}"
    assert r"\begin{cases}" in ACTIVATION_LATEX["relu"]
    for formula in [*ACTIVATION_LATEX.values(), *LOSS_LATEX.values()]:
        assert "=" in formula and "\n" not in formula
        depth = 0
        for char in formula.replace(r"\{", "").replace(r"\}", ""):
            depth += {"{": 1, "}": -1}.get(char, 0)
            assert depth >= 0, formula
        assert depth == 0, formula
        assert formula.count(r"\left") == formula.count(r"\right"), formula
        assert len(re.findall(r"\\begin\{cases\}", formula)) == formula.count(r"\end{cases}")
    for alias, name in LATEX_ALIASES.items():
        assert keras.losses.get(alias) is keras.losses.get(name)
        assert loss_latex(alias) == LOSS_LATEX[name]
    assert activation_latex("tanh") == ACTIVATION_LATEX["tanh"]
    with pytest.raises(ValueError, match="Unknown activation"):
        activation_latex("step")
    with pytest.raises(ValueError, match="Unknown loss"):
        loss_latex("focal")
