"""The 2-2-1 network of lesson 002 (no bias): forward pass, hand-written backprop, Keras layout.

N1 = x1*w1 + x2*w2, N2 = x1*w3 + x2*w4 (hidden layer), Y = N1*w5 + N2*w6 (output), each
layer followed by its activation. Keras stores the same weights as
``[np.array([[w1, w3], [w2, w4]]), np.array([[w5], [w6]])]``; float32 as Keras by default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from nn_core.basics.activations import ELEMENTWISE_ACTIVATIONS, activate, activation_derivative
from nn_core.basics.losses import ONE_OUTPUT_LOSSES, loss_gradient, loss_value

if TYPE_CHECKING:
    import keras

WEIGHT_NAMES: tuple[str, ...] = ("w1", "w2", "w3", "w4", "w5", "w6")
DTYPES: dict[str, type[np.floating]] = {"float32": np.float32, "float64": np.float64}


@dataclass(frozen=True)
class ForwardResult:
    """Every intermediate value of one forward pass (``*_in``: before the activation)."""

    n1_in: float
    n2_in: float
    n1: float
    n2: float
    y_in: float
    y: float


def dtype_of(dtype: str) -> type[np.floating]:
    """The NumPy scalar type of "float32" (Keras's default floatx) or "float64"."""
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    return DTYPES[dtype]


def as_vector(values: Sequence[float], size: int, what: str, dtype: str = "float64") -> np.ndarray:
    """Finite vector (size,) rounded to ``dtype``, or a ValueError naming ``what``."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size != size:
        raise ValueError(f"{what}: expected {size} numbers, got {arr.size}")
    with np.errstate(over="ignore"):
        out = arr.astype(dtype_of(dtype))
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{what}: every value must be finite in {dtype}, got {arr.tolist()}")
    return out


def format_keras(value: float, dtype: str = "float32") -> str:
    """``value`` as NumPy/Keras print it in ``dtype``: the shortest digits that round-trip."""
    with np.errstate(over="ignore"):
        return str(dtype_of(dtype)(value))


def check_activation(name: str, layer: str) -> None:
    """Only elementwise activations have the per-neuron derivative backprop uses."""
    if name not in ELEMENTWISE_ACTIVATIONS:
        raise ValueError(f"unknown {layer} activation {name!r}; choose one of "
                         f"{', '.join(ELEMENTWISE_ACTIVATIONS)}")


def check_loss(name: str) -> None:
    """A single-output network takes regression or binary losses only."""
    if name not in ONE_OUTPUT_LOSSES:
        raise ValueError(f"unknown loss {name!r} for one output; choose one of "
                         f"{', '.join(ONE_OUTPUT_LOSSES)}")


def _act(name: str, x: np.floating, derivative: bool = False) -> np.floating:
    """Activation (or its derivative) at the scalar ``x``, in float64, rounded to x's dtype."""
    fn = activation_derivative if derivative else activate
    with np.errstate(over="ignore"):
        return type(x)(fn(name, np.array([float(x)]))[0])


def _dot(a1: np.floating, b1: np.floating, a2: np.floating, b2: np.floating) -> np.floating:
    """a1*b1 + a2*b2 as Keras's CPU matmul rounds it with TensorFlow's oneDNN kernels (its
    default on AVX-512 CPUs, where the course's numbers come from; tests/conftest.py turns them
    on everywhere): float32 is fma(a2, b2, round(a1*b1))."""
    if isinstance(a1, np.float64):
        return a1 * b1 + a2 * b2
    return type(a1)(float(a2) * float(b2) + float(a1 * b1))  # exact product + one rounding


@dataclass(frozen=True)
class Network:
    """The 2-2-1 network with one sample: everything a forward pass, the loss and a step need.

    Like micrograd's ``Neuron``, the state lives on one object: weights w1..w6 (6,), inputs
    x1, x2 (2,), the target, the two activations, the loss and the dtype the arithmetic is
    rounded to (float32 as Keras by default). Construction validates names and sizes; values
    that overflow the dtype are reported by the computations (ValueError).
    """

    weights: Sequence[float]
    inputs: Sequence[float]
    target: float = 0.0
    hidden: str = "linear"
    output: str = "linear"
    loss: str = "mse"
    dtype: str = "float32"

    def __post_init__(self) -> None:
        dtype_of(self.dtype)
        check_activation(self.hidden, "hidden")
        check_activation(self.output, "output")
        check_loss(self.loss)
        object.__setattr__(self, "weights", tuple(float(w) for w in np.ravel(self.weights)))
        object.__setattr__(self, "inputs", tuple(float(x) for x in np.ravel(self.inputs)))
        as_vector(self.weights, 6, "weights")
        as_vector(self.inputs, 2, "inputs")

    def with_weights(self, weights: Sequence[float]) -> Network:
        """The same network with other weights w1..w6 (6,)."""
        return replace(self, weights=weights)

    def forward(self) -> ForwardResult:
        """Run the network on its input, keeping every intermediate value."""
        w = as_vector(self.weights, 6, "weights", self.dtype)
        x = as_vector(self.inputs, 2, "inputs", self.dtype)
        n1_in, n2_in = _dot(x[0], w[0], x[1], w[1]), _dot(x[0], w[2], x[1], w[3])
        n1, n2 = _act(self.hidden, n1_in), _act(self.hidden, n2_in)
        y_in = _dot(n1, w[4], n2, w[5])
        return ForwardResult(*map(float, (n1_in, n2_in, n1, n2, y_in,
                                          _act(self.output, y_in))))

    def loss_and_gradients(self) -> tuple[float, np.ndarray]:
        """Loss against the target and dL/dw for w1..w6 (6,) by the chain rule, in dtype."""
        dt, loss = dtype_of(self.dtype), self.loss
        t = as_vector([self.target], 1, "target", self.dtype)[0]
        w = as_vector(self.weights, 6, "weights", self.dtype)
        x = as_vector(self.inputs, 2, "inputs", self.dtype)
        f = self.forward()
        y, n1, n2 = dt(f.y), dt(f.n1), dt(f.n2)
        with np.errstate(over="ignore"):  # Keras's mse rounds t - y, then its square; others once
            value = np.square(t - y) if loss == "mse" else dt(loss_value(loss, [[t]], [[y]]))
            # dL/dY_in = dL/dY * f'(Y_in); then back through w5, w6 to the hidden sums.
            delta_out = dt(np.asarray(loss_gradient(loss, [[t]], [[y]])).reshape(-1)[0])
        delta_out *= _act(self.output, dt(f.y_in), derivative=True)
        delta_1 = delta_out * w[4] * _act(self.hidden, dt(f.n1_in), derivative=True)
        delta_2 = delta_out * w[5] * _act(self.hidden, dt(f.n2_in), derivative=True)
        grads = [delta_1 * x[0], delta_1 * x[1], delta_2 * x[0], delta_2 * x[1], delta_out * n1,
                 delta_out * n2]
        return float(value), np.array(grads, dtype=np.float64)

    def training_step(self, learning_rate: float = 0.01) -> np.ndarray:
        """One plain gradient-descent step w <- w - lr * dL/dw in dtype, as Keras's SGD; (6,)."""
        if not (math.isfinite(learning_rate) and learning_rate >= 0):
            raise ValueError(f"learning_rate must be a finite number >= 0, got {learning_rate}")
        _, grads = self.loss_and_gradients()
        w = as_vector(self.weights, 6, "weights", self.dtype)
        with np.errstate(over="ignore", invalid="ignore"):  # a huge lr overflows, as in Keras
            return (w - grads.astype(w.dtype) * w.dtype.type(learning_rate)).astype(np.float64)


def to_keras_weights(weights: Sequence[float]) -> list[np.ndarray]:
    """w1..w6 (6,) -> Keras layout [kernel (2, 2), kernel (2, 1)] (rows: inputs, columns: units)."""
    w1, w2, w3, w4, w5, w6 = as_vector(weights, 6, "weights")
    return [np.array([[w1, w3], [w2, w4]]), np.array([[w5], [w6]])]


def from_keras_weights(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Keras layout [kernel (2, 2), kernel (2, 1)] -> w1..w6 (6,)."""
    if len(arrays) != 2:
        raise ValueError(f"expected 2 weight arrays (two kernels, no bias), got {len(arrays)}")
    k1, k2 = np.asarray(arrays[0], dtype=np.float64), np.asarray(arrays[1], dtype=np.float64)
    if k1.shape != (2, 2) or k2.shape != (2, 1):
        raise ValueError(f"expected kernels of shape (2, 2) and (2, 1), got {k1.shape}, {k2.shape}")
    return as_vector([k1[0, 0], k1[1, 0], k1[0, 1], k1[1, 1], k2[0, 0], k2[1, 0]], 6, "weights")


def build_keras_network(hidden: str = "linear", output: str = "linear") -> keras.Sequential:
    """The same network as a keras.Sequential (imports Keras here, never at module import)."""
    check_activation(hidden, "hidden")
    check_activation(output, "output")
    import keras

    return keras.Sequential([keras.Input((2,)),
                             keras.layers.Dense(2, use_bias=False, activation=hidden),
                             keras.layers.Dense(1, use_bias=False, activation=output)])
