"""Time 1,000 descent steps of all seven optimizers in NumPy against the same steps in Keras.

Run: ``.venv/bin/python benchmarks/bench_descent.py``. Prints the NumPy median, the Keras time
(GradientTape + ``optimizer.apply_gradients`` on a Dense(1, use_bias=False) model, 1,000 real
steps per optimizer, eager and inside ``tf.function``), their ratio, the largest difference
between the two sets of final weights, and the error-surface time at resolution 61 and 201.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from nn_core import course as d
from nn_core.basics.descent import error_surface, trajectories
from nn_core.basics.optimizers import OPTIMIZERS, Run, keras_optimizer

STEPS = 1000
X, Y = np.array(d.DESCENT_INPUTS), np.array(d.DESCENT_TARGETS)


def seconds(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and fastest wall time of ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def keras_step(model: Any, optimizer: Any, loss_fn: Callable, xt: Any, yt: Any,
               ) -> Callable[[], None]:
    """One full-batch step: GradientTape on the Keras loss, then optimizer.apply_gradients."""
    import tensorflow as tf

    variables = model.trainable_variables

    def step() -> None:
        with tf.GradientTape() as tape:
            value = tf.reduce_mean(loss_fn(yt, model(xt, training=True)))
        optimizer.apply_gradients(zip(tape.gradient(value, variables), variables, strict=True))

    return step


def keras_steps(compiled: bool) -> tuple[float, np.ndarray]:
    """Seconds for 1,000 Keras steps of every optimizer, and the final weights (7, 2)."""
    import keras
    import tensorflow as tf

    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    xt, yt = tf.constant(X), tf.constant(Y[:, None])
    total, finals = 0.0, []
    for name in OPTIMIZERS:
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
        model.layers[0].kernel.assign(np.reshape(d.DESCENT_START, (2, 1)))
        opt = keras_optimizer(name)
        opt.build(model.trainable_variables)
        step = keras_step(model, opt, keras.losses.get(d.DESCENT_LOSS), xt, yt)
        if compiled:
            step = tf.function(step)
            step.get_concrete_function()  # trace outside the timing; it does not step
        start = time.perf_counter()
        for _ in range(STEPS):
            step()
        total += time.perf_counter() - start
        finals.append(model.layers[0].kernel.numpy()[:, 0])
    return total, np.array(finals)


def main() -> None:
    """Run every measurement in this one process and print the figures."""
    runs = [Run(name) for name in OPTIMIZERS]
    numpy_s, numpy_min = seconds(
        lambda: trajectories(runs, d.DESCENT_START, X, Y, d.DESCENT_LOSS, STEPS), 21)
    alone_s, alone_min = seconds(
        lambda: [trajectories([r], d.DESCENT_START, X, Y, d.DESCENT_LOSS, STEPS) for r in runs], 5)
    ours = np.array([t.weights[-1] for t in trajectories(runs, d.DESCENT_START, X, Y,
                                                          d.DESCENT_LOSS, STEPS)])
    print(f"{STEPS} steps x {len(runs)} optimizers ({', '.join(OPTIMIZERS)}), mse, lesson data")
    print(f"  NumPy, all together (trajectories):   {numpy_s * 1e3:9.1f} ms  (median of 21; "
          f"fastest {numpy_min * 1e3:.1f})")
    print(f"  NumPy, one trajectory at a time:      {alone_s * 1e3:9.1f} ms  (median of 5; "
          f"fastest {alone_min * 1e3:.1f})")
    for compiled, label in [(False, "Keras eager, apply_gradients:"),
                            (True, "Keras tf.function, apply_gradients:")]:
        keras_s, finals = keras_steps(compiled)
        print(f"  {label:<37}{keras_s * 1e3:9.1f} ms  (once)  = {keras_s / numpy_s:6.0f} x NumPy;"
              f"  max |w_keras - w_numpy| = {np.abs(finals - ours).max():.1e}")
    for resolution in (61, 201):
        surface_s, surface_min = seconds(
            lambda r=resolution: error_surface(X, Y, "mse", resolution=r), 21)
        print(f"error_surface, resolution {resolution:3d}:        {surface_s * 1e3:9.2f} ms  "
              f"(median of 21; fastest {surface_min * 1e3:.2f})")


if __name__ == "__main__":
    main()
