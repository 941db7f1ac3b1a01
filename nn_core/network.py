"""The 2-2-1 network of lesson 002 (no bias): forward pass, hand-written backprop, Keras layout.

N1 = x1*w1 + x2*w2, N2 = x1*w3 + x2*w4 (hidden layer), Y = N1*w5 + N2*w6 (output), each
layer followed by its activation. Keras stores the same weights as
``[np.array([[w1, w3], [w2, w4]]), np.array([[w5], [w6]])]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from nn_core.activations import ELEMENTWISE_ACTIVATIONS, activate, activation_derivative
from nn_core.losses import BINARY_LOSSES, REGRESSION_LOSSES, loss_gradient, loss_value

if TYPE_CHECKING:
    import keras

ONE_OUTPUT_LOSSES: tuple[str, ...] = REGRESSION_LOSSES + BINARY_LOSSES  # losses for one output
WEIGHT_NAMES: tuple[str, ...] = ("w1", "w2", "w3", "w4", "w5", "w6")


@dataclass(frozen=True)
class ForwardResult:
    """Every intermediate value of one forward pass (``*_in``: before the activation)."""

    n1_in: float
    n2_in: float
    n1: float
    n2: float
    y_in: float
    y: float


def _vector(values: Sequence[float], size: int, what: str) -> np.ndarray:
    """Finite float64 vector of the given size (size,), or a ValueError naming ``what``."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size != size:
        raise ValueError(f"{what}: expected {size} numbers, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: every value must be finite, got {arr.tolist()}")
    return arr


def _check_activation(name: str, layer: str) -> None:
    """Only elementwise activations have the per-neuron derivative backprop uses."""
    if name not in ELEMENTWISE_ACTIVATIONS:
        raise ValueError(f"unknown {layer} activation {name!r}; choose one of "
                         f"{', '.join(ELEMENTWISE_ACTIVATIONS)}")


def _check_loss(name: str) -> None:
    """A single-output network takes regression or binary losses only."""
    if name not in ONE_OUTPUT_LOSSES:
        raise ValueError(f"unknown loss {name!r} for one output; choose one of "
                         f"{', '.join(ONE_OUTPUT_LOSSES)}")


def _act(name: str, x: float, derivative: bool = False) -> float:
    """Scalar activation value (or its derivative) at ``x``."""
    fn = activation_derivative if derivative else activate
    return float(fn(name, np.array([x]))[0])


def forward_pass(
    weights: Sequence[float],
    inputs: Sequence[float],
    hidden: str = "linear",
    output: str = "linear",
) -> ForwardResult:
    """Run the 2-2-1 network on one input (2,) with weights w1..w6 (6,), keeping every value."""
    w = _vector(weights, 6, "weights")
    x = _vector(inputs, 2, "inputs")
    _check_activation(hidden, "hidden")
    _check_activation(output, "output")
    n1_in = float(x[0] * w[0] + x[1] * w[1])
    n2_in = float(x[0] * w[2] + x[1] * w[3])
    n1, n2 = _act(hidden, n1_in), _act(hidden, n2_in)
    y_in = float(n1 * w[4] + n2 * w[5])
    return ForwardResult(n1_in, n2_in, n1, n2, y_in, _act(output, y_in))


def loss_and_gradients(
    weights: Sequence[float],
    inputs: Sequence[float],
    target: float,
    hidden: str = "linear",
    output: str = "linear",
    loss: str = "mse",
) -> tuple[float, np.ndarray]:
    """Loss against ``target`` and dL/dw for w1..w6 (6,) by the chain rule, written out."""
    _check_loss(loss)
    t = float(_vector([target], 1, "target")[0])
    w, x = _vector(weights, 6, "weights"), _vector(inputs, 2, "inputs")
    f = forward_pass(w, x, hidden, output)
    y_true, y_pred = np.array([[t]]), np.array([[f.y]])
    value = loss_value(loss, y_true, y_pred)
    # dL/dY_in = dL/dY * f'(Y_in); then back through w5, w6 to the hidden pre-activations.
    delta_out = float(np.asarray(loss_gradient(loss, y_true, y_pred)).reshape(-1)[0])
    delta_out *= _act(output, f.y_in, derivative=True)
    delta_1 = delta_out * w[4] * _act(hidden, f.n1_in, derivative=True)
    delta_2 = delta_out * w[5] * _act(hidden, f.n2_in, derivative=True)
    grads = np.array(
        [delta_1 * x[0], delta_1 * x[1], delta_2 * x[0], delta_2 * x[1], delta_out * f.n1,
         delta_out * f.n2]
    )
    return float(value), grads


def training_step(
    weights: Sequence[float],
    inputs: Sequence[float],
    target: float,
    hidden: str = "linear",
    output: str = "linear",
    loss: str = "mse",
    learning_rate: float = 0.01,
) -> np.ndarray:
    """One plain gradient-descent step w <- w - lr * dL/dw, as Keras's SGD does; returns (6,)."""
    if not (math.isfinite(learning_rate) and learning_rate >= 0):
        raise ValueError(f"learning_rate must be a finite number >= 0, got {learning_rate}")
    _, grads = loss_and_gradients(weights, inputs, target, hidden, output, loss)
    return _vector(weights, 6, "weights") - learning_rate * grads


def to_keras_weights(weights: Sequence[float]) -> list[np.ndarray]:
    """w1..w6 (6,) -> Keras layout [kernel (2, 2), kernel (2, 1)] (rows: inputs, columns: units)."""
    w1, w2, w3, w4, w5, w6 = _vector(weights, 6, "weights")
    return [np.array([[w1, w3], [w2, w4]]), np.array([[w5], [w6]])]


def from_keras_weights(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Keras layout [kernel (2, 2), kernel (2, 1)] -> w1..w6 (6,)."""
    if len(arrays) != 2:
        raise ValueError(f"expected 2 weight arrays (two kernels, no bias), got {len(arrays)}")
    k1, k2 = np.asarray(arrays[0], dtype=np.float64), np.asarray(arrays[1], dtype=np.float64)
    if k1.shape != (2, 2) or k2.shape != (2, 1):
        raise ValueError(f"expected kernels of shape (2, 2) and (2, 1), got {k1.shape}, {k2.shape}")
    return _vector([k1[0, 0], k1[1, 0], k1[0, 1], k1[1, 1], k2[0, 0], k2[1, 0]], 6, "weights")


def build_keras_model(hidden: str = "linear", output: str = "linear") -> keras.Sequential:
    """The same network as a keras.Sequential (imports Keras here, never at module import)."""
    _check_activation(hidden, "hidden")
    _check_activation(output, "output")
    import keras

    return keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(2, use_bias=False, activation=hidden),
            keras.layers.Dense(1, use_bias=False, activation=output),
        ]
    )


def keras_code(
    weights: Sequence[float],
    inputs: Sequence[float],
    target: float,
    hidden: str = "linear",
    output: str = "linear",
    loss: str = "mse",
) -> str:
    """A runnable Keras script: builds this network, prints ``Y = ...`` and ``loss = ...``."""
    _check_loss(loss)
    _check_activation(hidden, "hidden")
    _check_activation(output, "output")
    k1, k2 = to_keras_weights(weights)
    x = _vector(inputs, 2, "inputs")
    t = float(_vector([target], 1, "target")[0])
    return f"""import numpy as np
import keras

keras.config.set_floatx("float64")  # float64, so every digit matches the page
keras.config.set_dtype_policy("float64")

model = keras.Sequential([
    keras.Input((2,)),
    keras.layers.Dense(2, use_bias=False, activation="{hidden}"),
    keras.layers.Dense(1, use_bias=False, activation="{output}"),
])
# Keras layout: [[w1, w3], [w2, w4]] and [[w5], [w6]]
model.set_weights([
    np.array({k1.tolist()!r}),
    np.array({k2.tolist()!r}),
])
x = np.array([{x.tolist()!r}])
y_pred = model.predict(x, verbose=0)
loss = np.mean(keras.losses.get("{loss}")(np.array([[{t!r}]]), y_pred))
print(f"Y = {{y_pred[0, 0]:.7f}}")
print(f"loss = {{float(loss):.7f}}")
"""
