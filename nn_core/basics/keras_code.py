"""Keras scripts the lesson pages show: the same numbers as nn_core, computed by Keras itself.

Text only: nothing here imports Keras or TensorFlow; the generated scripts do, when a student
(or tests/nn_core/basics/test_keras_code.py) runs them. ``forward_script`` builds the 2-2-1
network and ``training_step_script`` continues it with one training step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from nn_core.basics.descent import Trajectory
from nn_core.basics.network import Network, as_vector, dtype_of, format_keras, to_keras_weights
from nn_core.basics.optimizers import OPTIMIZERS

# The comments of a script are in the page's language: the page passes its gettext lookup
# (``ui.common.i18n._``); ``str`` leaves them in English. Babel extracts the ``gettext("...")``
# calls below into the page's catalog (babel.cfg).
Gettext = Callable[[str], str]


def forward_script(net: Network, gettext: Gettext = str) -> str:
    """A runnable Keras script: builds this network, prints ``Y = ...`` and ``loss = ...``;
    its comments through ``gettext``."""
    dtype, hidden, output, loss = net.dtype, net.hidden, net.output, net.loss
    f64 = dtype_of(dtype) is np.float64
    w = as_vector(net.weights, 6, "weights", dtype)
    x, t = as_vector(net.inputs, 2, "inputs", dtype), as_vector([net.target], 1, "target", dtype)
    lit = np.vectorize(lambda v: format_keras(v, dtype), otypes=[str])  # dtype's own digits
    k1, k2, x, t = (str(lit(a).tolist()).replace("'", "") for a in (*to_keras_weights(w), x, t))
    setup = ('keras.config.set_floatx("float64")  # '
             + gettext("float64, so every digit matches the page") + '\n'
             'keras.config.set_dtype_policy("float64")\n\n') if f64 else ""
    show = ('print(f"Y = {y_pred[0, 0]:.7f}")\nprint(f"loss = {float(loss):.7f}")' if f64 else
            'print("Y =", y_pred[0, 0])  # '
            + gettext("float32: NumPy prints the shortest exact digits") + '\n'
            'print("loss =", loss)')
    layout = gettext("Keras layout: {first} and {second}").format(
        first="[[w1, w3], [w2, w4]]", second="[[w5], [w6]]")
    return f"""import numpy as np
import keras

{setup}model = keras.Sequential([
    keras.Input((2,)),
    keras.layers.Dense(2, use_bias=False, activation="{hidden}"),
    keras.layers.Dense(1, use_bias=False, activation="{output}"),
])
# {layout}
model.set_weights([
    np.array({k1}),
    np.array({k2}),
])
x = np.array([{x}])
y_pred = model.predict(x, verbose=0)
loss = np.mean(keras.losses.get("{loss}")(np.array([{t}]), y_pred))
{show}
"""


def training_step_script(loss: str, target: float, learning_rate: float,
                         gettext: Gettext = str) -> str:
    """Lines appended to ``forward_script``'s script: one SGD step, then the six weights."""
    comment = gettext("One training step, as the page's button: {rule} (plain SGD, one sample)"
                      ).format(rule="w <- w - lr * dL/dw")
    return f"""
# {comment}
model.compile(optimizer=keras.optimizers.SGD(learning_rate={float(learning_rate)!r}), loss="{loss}")
model.train_on_batch(x, np.array([[{float(target)!r}]]))
k1, k2 = model.get_weights()
after = [k1[0, 0], k1[1, 0], k1[0, 1], k1[1, 1], k2[0, 0], k2[1, 0]]
print("after one step: " + ", ".join(f"w{{i + 1}} = {{w!s}}" for i, w in enumerate(after)))
"""


def curves_script(activations: Sequence[str], marks: Mapping[str, float],
                  regression: tuple[float, float, Sequence[str]],
                  binary: tuple[float, float, Sequence[str]], gettext: Gettext = str) -> str:
    """A float64 script printing each activation and its derivative at ``marks`` (k,), and each
    (target, prediction, losses) group's loss and d loss / d prediction, by GradientTape."""
    doc = gettext("fn(x) and d fn / d x elementwise, by TensorFlow's autodiff.")
    about_x = gettext("the forward page's {names} before activation").format(
        names=", ".join(marks))
    xs = [float(v) for v in marks.values()]
    rows = "".join(f"    ({n!r}, {float(target)!r}, {float(prediction)!r}),\n"
                   for target, prediction, names in (regression, binary) for n in names)
    return f'''import numpy as np
import tensorflow as tf
import keras

keras.config.set_floatx("float64")
np.set_printoptions(precision=7, suppress=True)


def value_and_derivative(fn, x):
    """{doc}"""
    x = tf.constant(x, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y.numpy(), tape.gradient(y, x).numpy()


x = np.array({xs!r})  # {about_x}
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
                   labels: Sequence[str] | None = None, gettext: Gettext = str) -> str:
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
    matches = gettext("float64 so every digit matches the page")
    doc = gettext("Dense(1, no bias) from the start point; one full-batch step per epoch.")
    red, final = gettext("(w1, w2), the red point"), gettext("final (w1, w2)")
    return f'''import numpy as np
import keras

keras.config.set_floatx("float64")  # {matches}
x_train = np.array({x!r})
y_train = np.array({y!r})


def train(optimizer, steps={int(steps)}):
    """{doc}"""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    model.set_weights([np.array([[{w1!r}], [{w2!r}]])])  # {red}
    model.compile(optimizer=optimizer, loss="{loss}")
    model.fit(x_train, y_train, batch_size=len(x_train), epochs=steps, shuffle=False, verbose=0)
    return model.get_weights()[0].ravel()  # {final}


{chr(10).join(lines)}
'''
