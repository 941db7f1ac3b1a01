"""Keras scripts the lesson pages show: the same numbers as nn_core, computed by Keras itself.

Text only: nothing here imports Keras or TensorFlow; the generated scripts do, when a student
(or tests/nn_core/test_keras_code.py) runs them. The forward pass's own script is
``nn_core.network.keras_code``; ``training_step_script`` continues it with one training step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from nn_core.descent import Trajectory
from nn_core.optimizers import OPTIMIZERS

__all__ = ["curves_script", "descent_script", "training_step_script"]


def training_step_script(loss: str, target: float, learning_rate: float) -> str:
    """Lines appended to ``network.keras_code``'s script: one SGD step, then the six weights."""
    return f"""
# One training step, as the page's button: w <- w - lr * dL/dw (plain SGD, one sample)
model.compile(optimizer=keras.optimizers.SGD(learning_rate={float(learning_rate)!r}), loss="{loss}")
model.train_on_batch(x, np.array([[{float(target)!r}]]))
k1, k2 = model.get_weights()
after = [k1[0, 0], k1[1, 0], k1[0, 1], k1[1, 1], k2[0, 0], k2[1, 0]]
print("after one step: " + ", ".join(f"w{{i + 1}} = {{w!s}}" for i, w in enumerate(after)))
"""


def curves_script(activations: Sequence[str], marks: Mapping[str, float],
                  regression: tuple[float, float, Sequence[str]],
                  binary: tuple[float, float, Sequence[str]]) -> str:
    """A float64 script printing each activation and its derivative at ``marks`` (k,), and each
    (target, prediction, losses) group's loss and d loss / d prediction, by GradientTape."""
    xs = [float(v) for v in marks.values()]
    rows = "".join(f"    ({n!r}, {float(target)!r}, {float(prediction)!r}),\n"
                   for target, prediction, names in (regression, binary) for n in names)
    return f'''import numpy as np
import tensorflow as tf
import keras

keras.config.set_floatx("float64")
np.set_printoptions(precision=7, suppress=True)


def value_and_derivative(fn, x):
    """fn(x) and d fn / d x elementwise, by TensorFlow's autodiff."""
    x = tf.constant(x, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y.numpy(), tape.gradient(y, x).numpy()


x = np.array({xs!r})  # the forward page's {", ".join(marks)} before activation
for name in {list(activations)!r}:
    f, df = value_and_derivative(keras.activations.get(name), x)
    print(name, "f:", f, "f':", df)

for name, target, prediction in [
{rows}]:
    fn = keras.losses.get(name)
    value, grad = value_and_derivative(lambda p: fn(np.array([[target]]), p), [[prediction]])
    print(name, "loss:", value[0], "d loss / d prediction:", grad[0, 0])
'''


def descent_script(inputs: ArrayLike, targets: ArrayLike, loss: str, start: Sequence[float],
                   steps: int, paths: Sequence[Trajectory],
                   labels: Sequence[str] | None = None) -> str:
    """A float64 script training Dense(1, no bias) on inputs (n, 2), targets (n,) from ``start``
    with each path's optimizer and settings; prints ``<label>: [w1 w2]`` after ``steps``."""
    labels = [p.optimizer for p in paths] if labels is None else list(labels)
    if len(labels) != len(paths):
        raise ValueError(f"need one label per path, got {len(labels)} for {len(paths)}")
    lines = []
    for label, path in zip(labels, paths, strict=True):
        if path.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {path.optimizer!r}")
        opt = OPTIMIZERS[path.optimizer]
        args = ", ".join(f"{k}={v!r}" for k, v in (path.settings | opt.fixed).items())
        lines.append(f'print("{label}:", train(keras.optimizers.{opt.keras_class}({args})))')
    x = np.asarray(inputs, dtype=np.float64).tolist()
    y = np.asarray(targets, dtype=np.float64).tolist()
    w1, w2 = (float(v) for v in start)
    return f'''import numpy as np
import keras

keras.config.set_floatx("float64")  # float64 so every digit matches the page
x_train = np.array({x!r})
y_train = np.array({y!r})


def train(optimizer, steps={int(steps)}):
    """Dense(1, no bias) from the start point; one full-batch step per epoch."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    model.set_weights([np.array([[{w1!r}], [{w2!r}]])])  # (w1, w2), the red point
    model.compile(optimizer=optimizer, loss="{loss}")
    model.fit(x_train, y_train, batch_size=len(x_train), epochs=steps, shuffle=False, verbose=0)
    return model.get_weights()[0].ravel()  # final (w1, w2)


{chr(10).join(lines)}
'''
