"""Descent on the two-weight model: loss, gradient, surface and paths equal Keras's.

The optimizers' step-by-step comparisons with keras.optimizers are in test_optimizers.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn_core import course as d
from nn_core.basics import descent
from nn_core.basics.descent import (
    error_surface,
    loss_and_gradient,
    lr_thresholds,
    mse_minimum,
    steps_needed,
    steps_to_reach,
    trajectories,
    trajectory,
)
from nn_core.basics.losses import LOSSES, ONE_OUTPUT_LOSSES, elementwise_loss
from nn_core.basics.optimizers import OPTIMIZERS, Run

X, Y = np.array(d.DESCENT_INPUTS), np.array(d.DESCENT_TARGETS)
START, MINIMUM = d.DESCENT_START, d.DESCENT_MINIMUM
# A tilted, non-round bowl with three samples. (Not random: where RMSprop/Adam steps bang back
# and forth across a ravine floor, 1e-16 rounding differences grow, in Keras as here.)
X3, Y3 = np.array([[1.0, 0.4], [0.2, -1.0], [-0.6, 0.8]]), np.array([0.5, -0.7, 0.3])




def test_error_surface_equals_keras_loss(keras64):
    for loss, x, y in [("mse", X, Y), ("mae", X3, Y3), ("huber", X3, Y3)]:
        w1, w2, Z = error_surface(x, y, loss, (-1.5, 1.5), 61)
        assert w1.shape == w2.shape == (61,) and Z.shape == (61, 61)
        model = keras64.Sequential([keras64.Input((2,)), keras64.layers.Dense(1, use_bias=False)])
        for i, j in [(0, 0), (0, 60), (17, 43), (30, 30), (60, 5)]:
            model.layers[0].kernel.assign([[w1[j]], [w2[i]]])
            value = np.mean(keras64.losses.get(loss)(y[:, None], model(x)))
            assert Z[i, j] == pytest.approx(float(value), rel=1e-9)
            assert Z[i, j] == pytest.approx(loss_and_gradient((w1[j], w2[i]), x, y, loss)[0])
    w1, w2, Z = error_surface(X, Y)  # the lesson's bowl: minimum at (1, -1), on the grid
    i, j = np.unravel_index(np.argmin(Z), Z.shape)
    assert (w1[j], w2[i]) == (pytest.approx(1.0), pytest.approx(-1.0)) and Z[i, j] < 1e-20


def test_loss_and_gradient_equals_gradient_tape(keras64):
    import tensorflow as tf

    for loss in ["mse", "mae", "huber", "log_cosh", "binary_crossentropy", "hinge"]:
        w = np.array([0.3, -0.7])
        value, grad = loss_and_gradient(w, X3, Y3, loss)
        wt = tf.Variable(w[:, None])
        with tf.GradientTape() as tape:
            k_value = tf.reduce_mean(keras64.losses.get(loss)(Y3[:, None], X3 @ wt))
        np.testing.assert_allclose(grad, tape.gradient(k_value, wt).numpy()[:, 0], rtol=1e-9)
        assert value == pytest.approx(float(k_value), rel=1e-9)


@pytest.mark.parametrize("loss", ONE_OUTPUT_LOSSES)
def test_hot_loop_gradient_is_bit_for_bit_loss_gradient(loss):
    rng = np.random.default_rng(7)
    W, y = rng.normal(size=(4, 2)), np.abs(rng.normal(size=3))  # 4 weight pairs, 3 samples
    if LOSSES[loss].kind == "binary":
        y = np.array([0.0, 1.0, 1.0])
    pred = (W @ X3.T).reshape(-1, 1)  # what Loss.gradient sees: 12 samples (12, 1)
    expected = (LOSSES[loss].gradient(np.tile(y, 4)[:, None], pred) * 4).reshape(4, -1) @ X3
    got = descent._gradients(W, X3, np.tile(y, (4, 1)), elementwise_loss(loss))
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="not an elementwise loss"):
        elementwise_loss("categorical_crossentropy")


def test_lr_thresholds_follow_the_mean_over_samples():
    assert lr_thresholds(X) == (1.0, 2.0)  # H = (2/n) X^T X = I on the lesson's data
    assert lr_thresholds([[3, 0], [0, 1]]) == pytest.approx((1 / 9, 2 / 9))  # a ravine
    assert lr_thresholds([[1, 0], [0, 1], [1, 0], [0, 1]]) == (1.0, 2.0)  # the mean, not the sum
    assert lr_thresholds([[0, 0]]) == (np.inf, np.inf)
    np.testing.assert_allclose(mse_minimum(X, Y), MINIMUM)


def test_sgd_learning_rate_regimes():
    one_step, limit = lr_thresholds(X)
    slow = trajectory("sgd", START, X, Y, "mse", 40, 0.5 * one_step).weights[:, 1]
    assert np.all(np.diff(slow) < 0) and np.all(slow > -1) and abs(slow[-1] + 1) < 1e-9
    jump = trajectory("sgd", START, X, Y, "mse", 5, one_step)
    np.testing.assert_array_equal(jump.weights[1:], np.tile(MINIMUM, (5, 1)))
    assert steps_to_reach(jump, MINIMUM, 1e-12) == 1
    wobble = trajectory("sgd", START, X, Y, "mse", 40, 1.5 * one_step).weights[:, 1] + 1
    assert np.all(np.sign(wobble[1:-1]) == -np.sign(wobble[2:])) and abs(wobble[-1]) < 1e-9
    edge = trajectory("sgd", START, X, Y, "mse", 50, limit)
    assert not edge.diverged and set(edge.weights[:, 1]) == {1.0, -3.0}  # bounces for ever
    assert steps_to_reach(edge, MINIMUM) is None


def test_divergence_stops_quietly_with_finite_arrays():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = trajectory("sgd", START, X, Y, "mse", 3000, 2.5)
        ravine = trajectory("sgd", START, [[3, 0], [0, 1]], Y, "mse", 2000,
                            lr_thresholds([[3, 0], [0, 1]])[1] * 1.01)
        for_ever = trajectory("momentum", START, X, Y, "mse", 5000, 50.0)
    assert traj.diverged and traj.diverged_at == len(traj.weights) == len(traj.losses)
    assert np.all(np.isfinite(traj.weights)) and np.all(np.isfinite(traj.losses))
    assert traj.diverged_at == 33 and np.abs(traj.weights).max() <= 1e6  # |w2 + 1| = 2 * 1.5^k
    assert ravine.diverged and for_ever.diverged and np.isfinite(for_ever.weights).all()
    assert not trajectory("sgd", START, [[3, 0], [0, 1]], Y, "mse", 2000, 0.99 * 2 / 9).diverged


def test_runs_together_equal_runs_alone():
    runs = [Run(n) for n in OPTIMIZERS] + [Run("sgd", 2.5), Run("adam", 0.05, {"beta_1": 0.5}),
                                           Run("sgd", 0.3)]
    together = trajectories(runs, START, X3, Y3, "mse", 300)
    for run, traj in zip(runs, together, strict=True):
        alone = trajectory(run.optimizer, START, X3, Y3, "mse", 300, run.learning_rate,
                           **run.hyper)
        np.testing.assert_allclose(traj.weights, alone.weights, rtol=1e-12, atol=1e-12)
        assert (traj.diverged, traj.diverged_at, traj.optimizer) == (
            alone.diverged, alone.diverged_at, run.optimizer)
    assert together[-3].diverged and together[-3].settings["learning_rate"] == 2.5
    assert together[0].settings == OPTIMIZERS["sgd"].defaults


def test_steps_to_reach_and_zero_steps():
    traj = trajectory("sgd", START, X, Y, "mse", 0)
    assert traj.weights.shape == (1, 2) and traj.losses.shape == (1,)
    assert steps_to_reach(traj, START) == 0 and steps_to_reach(traj, MINIMUM) is None
    assert steps_to_reach(trajectory("sgd", START, X, Y, steps=10, learning_rate=0.5),
                          MINIMUM, 0.01) == 8  # the gap halves each step: 2 / 2^8 < 0.01


def test_steps_needed_stops_early_with_the_full_paths_answer():
    # The course's Adam: 4169 steps (test_optimizers.py holds Keras to it), found without
    # following it to 20,000.
    adam = Run(d.DESCENT_OPTIMIZER, d.DESCENT_LEARNING_RATE)
    assert steps_needed(adam, START, X, Y, MINIMUM, "mse", 20_000, d.DESCENT_TOLERANCE) == 4169
    # Every optimizer, rate and loss, chunk boundaries anywhere: the same step as the full path,
    # or None alike (not reached, or diverged first: lr 3 and 40 blow up).
    for name in OPTIMIZERS:
        for lr in (0.001, 0.05, 0.5, 1.5, 3.0, 40.0):
            for loss, x, y, point in [("mse", X, Y, MINIMUM), ("mae", X3, Y3, (0.2, 0.6))]:
                full = steps_to_reach(trajectory(name, START, x, y, loss, 600, lr), point, 0.05)
                for chunk in (1, 37, 600, 1000):
                    assert steps_needed(Run(name, lr), START, x, y, point, loss, 600, 0.05,
                                        chunk) == full, (name, lr, loss, chunk)
    assert steps_needed(adam, START, X, Y, START, "mse", 0) == 0  # already there
    assert steps_needed(adam, START, X, Y, MINIMUM, "mse", 0) is None
    with pytest.raises(ValueError, match="tol"):
        steps_needed(adam, START, X, Y, MINIMUM, tol=0)
    with pytest.raises(ValueError, match="max_steps"):
        steps_needed(adam, START, X, Y, MINIMUM, max_steps=-1)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: trajectory("sgd", START, X, Y, "categorical_crossentropy"), "unknown loss"),
    (lambda: trajectory("sgd", (1.0, np.nan), X, Y), "start"),
    (lambda: trajectory("sgd", (1.0, 2.0, 3.0), X, Y), "start"),
    (lambda: trajectory("sgd", (1.0, 2e6), X, Y), "start"),
    (lambda: trajectory("sgd", START, [[1, 0, 0]], [1]), "shape"),
    (lambda: trajectory("sgd", START, X, [1, 2, 3]), "shape"),
    (lambda: trajectory("sgd", START, [[1, np.inf], [0, 1]], Y), "finite"),
    (lambda: trajectory("sgd", START, X, Y, steps=-1), "steps"),
    (lambda: trajectory("sgd", START, X, Y, steps=2.5), "steps"),
    (lambda: error_surface(X, Y, resolution=1), "resolution"),
    (lambda: error_surface(X, Y, w_range=(1, -1)), "w_range"),
    (lambda: loss_and_gradient((1, 2, 3), X, Y), "w must"),
    (lambda: steps_to_reach(trajectory("sgd", START, X, Y, steps=1), MINIMUM, 0), "tol"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _same_paths(a: list[descent.Trajectory], b: list[descent.Trajectory]) -> None:
    assert len(a) == len(b)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.weights, q.weights)
        np.testing.assert_array_equal(p.losses, q.losses)
        assert (p.diverged, p.diverged_at, p.settings) == (q.diverged, q.diverged_at, q.settings)


WALK_RUNS = [Run("adam", 0.05), Run("sgd", 0.9), Run("rmsprop", 0.01), Run("nesterov", 0.1),
             Run("adadelta", 1.0), Run("sgd", 3.0)]  # sgd 3.0 diverges on X3


@settings(max_examples=25, deadline=None)
@given(first=st.integers(0, 400), then=st.integers(0, 400))
def test_a_walk_extended_or_sliced_is_the_walk_computed_at_once(first: int, then: int) -> None:
    """The descent page's process-wide walks: any order of requests gives, bit for bit, the
    paths computed from scratch for that many steps (divergence included)."""
    walk = descent.Walk(WALK_RUNS, (0.9, 1.1), X3, Y3, "mse")
    walk.trajectories(first)
    assert walk.computed == first
    _same_paths(walk.trajectories(then), trajectories(WALK_RUNS, (0.9, 1.1), X3, Y3, "mse", then))
    assert walk.computed == max(first, then)
    assert trajectories(WALK_RUNS, (0.9, 1.1), X3, Y3, "mse", 60)[-1].diverged


def test_a_walk_refuses_bad_steps() -> None:
    walk = descent.Walk([Run("adam", 0.001)], START, X, Y)
    for bad in (-1, 1.5, descent.MAX_STEPS + 1):
        with pytest.raises(ValueError, match="steps must be an integer"):
            walk.trajectories(bad)
