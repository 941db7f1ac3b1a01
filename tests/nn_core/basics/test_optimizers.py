"""Every optimizer of the core equals keras.optimizers step by step (Dense(1) model)."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core import course as d
from nn_core.basics import optimizers
from nn_core.basics.descent import steps_to_reach, trajectory
from nn_core.basics.optimizers import OPTIMIZERS, keras_optimizer

X, Y = np.array(d.DESCENT_INPUTS), np.array(d.DESCENT_TARGETS)
START, MINIMUM = d.DESCENT_START, d.DESCENT_MINIMUM
# A tilted, non-round bowl with three samples. (Not random: where RMSprop/Adam steps bang back
# and forth across a ravine floor, 1e-16 rounding differences grow, in Keras as here.)
X3, Y3 = np.array([[1.0, 0.4], [0.2, -1.0], [-0.6, 0.8]]), np.array([0.5, -0.7, 0.3])
LIVELY_LR = {"sgd": 0.3, "momentum": 0.1, "nesterov": 0.1, "rmsprop": 0.002, "adagrad": 0.3,
             "adadelta": 1.0, "adam": 0.05}  # rates that move far in 200 steps (RMSprop faster
# than 0.002 reaches X3's minimum and bangs around it, where rounding differences grow)




def _keras_path(keras, name, start, x, y, loss, steps, learning_rate=None, **hyper):
    """Weights (steps+1, 2) and losses (steps,) of the real Keras optimizer on Dense(1)."""
    import tensorflow as tf

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    model.layers[0].kernel.assign(np.reshape(start, (2, 1)))
    variables = model.trainable_variables
    opt = keras_optimizer(name, learning_rate, **hyper)
    opt.build(variables)
    loss_fn = keras.losses.get(loss)
    xt, yt = tf.constant(x, tf.float64), tf.constant(np.reshape(y, (-1, 1)), tf.float64)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = tf.reduce_mean(loss_fn(yt, model(xt, training=True)))
        opt.apply_gradients(zip(tape.gradient(value, variables), variables, strict=True))
        return value

    weights, losses = [np.asarray(start, float)], []
    for _ in range(steps):
        losses.append(float(step()))
        weights.append(model.layers[0].kernel.numpy()[:, 0].copy())
    return np.array(weights), np.array(losses)


def _assert_same_as_keras(keras, name, x, y, loss, learning_rate=None, steps=200, **hyper):
    traj = trajectory(name, START, x, y, loss, steps, learning_rate, **hyper)
    k_weights, k_losses = _keras_path(keras, name, START, x, y, loss, steps, learning_rate,
                                      **hyper)
    assert not traj.diverged and traj.weights.shape == (steps + 1, 2)
    # Measured: equal to within 1 ulp; the margin allows another CPU's rounding.
    np.testing.assert_allclose(traj.weights, k_weights, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(traj.losses[:-1], k_losses, rtol=1e-9, atol=1e-12)
    return traj


@pytest.mark.parametrize("lively", [False, True], ids=["keras_default_lr", "lively_lr"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_equals_keras_for_200_steps(keras64, name, lively):
    lr = LIVELY_LR[name] if lively else None
    traj = _assert_same_as_keras(keras64, name, X, Y, "mse", lr)
    assert traj.losses[-1] < traj.losses[0]
    _assert_same_as_keras(keras64, name, X3, Y3, "mse", lr)


@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam"])
def test_mae_equals_keras(keras64, name):
    _assert_same_as_keras(keras64, name, X, Y, "mae", LIVELY_LR[name] / 10)
    _assert_same_as_keras(keras64, name, X3, Y3, "mae", LIVELY_LR[name] / 10)


@pytest.mark.parametrize(("name", "hyper"), [
    ("momentum", {"momentum": 0.5}), ("nesterov", {"momentum": 0.99}), ("rmsprop", {"rho": 0.5}),
    ("adagrad", {"initial_accumulator_value": 1.0, "epsilon": 1e-3}),
    ("adadelta", {"rho": 0.5}), ("adam", {"beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-4}),
])
def test_changed_hyper_parameters_equal_keras(keras64, name, hyper):
    _assert_same_as_keras(keras64, name, X3, Y3, "mse", LIVELY_LR[name], steps=100, **hyper)


@pytest.mark.parametrize("loss", ["huber", "log_cosh", "hinge"])
def test_other_losses_equal_keras(keras64, loss):
    _assert_same_as_keras(keras64, "adam", X3, Y3, loss, 0.05, steps=100)


def test_keras_defaults_are_the_table():
    import keras

    for name, opt in OPTIMIZERS.items():
        keras_obj = getattr(keras.optimizers, opt.keras_class)()
        for key, value in opt.defaults.items():
            if key == "momentum":  # the table's momentum entries choose 0.9 (Keras's SGD: 0.0)
                assert value == 0.9 and keras_obj.momentum == 0.0
                continue
            actual = np.asarray(getattr(keras_obj, key))
            assert float(actual) == pytest.approx(value, rel=1e-7), (name, key)
    assert keras_optimizer("nesterov").nesterov is True
    assert keras_optimizer("momentum").nesterov is False


def test_course_adam_reaches_the_minimum(keras64):
    traj = trajectory("adam", START, X, Y, d.DESCENT_LOSS, 6000, d.DESCENT_LEARNING_RATE)
    assert steps_to_reach(traj, MINIMUM, 0.01) == 4169  # the page quotes this figure
    np.testing.assert_allclose(traj.weights[-1], MINIMUM, atol=1e-5)
    assert np.all(np.diff(traj.losses) <= 1e-15)  # Adam(0.001) rolls straight down this bowl
    k_weights, _ = _keras_path(keras64, "adam", START, X, Y, d.DESCENT_LOSS, 4170,
                               d.DESCENT_LEARNING_RATE)  # and Keras takes the same 4169 steps
    np.testing.assert_allclose(traj.weights[:4171], k_weights, rtol=1e-9, atol=1e-12)
    near = np.linalg.norm(k_weights - MINIMUM, axis=1) <= 0.01
    assert near[4169] and not near[:4169].any()


@pytest.mark.parametrize(("call", "message"), [
    (lambda: trajectory("nope", START, X, Y), "unknown optimizer"),
    (lambda: trajectory("sgd", START, X, Y, learning_rate=0.0), "out of range"),
    (lambda: trajectory("sgd", START, X, Y, learning_rate=np.inf), "out of range"),
    (lambda: trajectory("sgd", START, X, Y, momentum=0.9), "no hyper-parameter"),
    (lambda: trajectory("momentum", START, X, Y, momentum=1.5), "out of range"),
    (lambda: trajectory("adam", START, X, Y, beta_1=1.0), "out of range"),
    (lambda: keras_optimizer("nope"), "unknown optimizer"),
    (lambda: optimizers.Stepper([optimizers.Run("rmsprop", hyper={"rho": 2.0})], 5),
     "out of range"),
])
def test_bad_settings_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
