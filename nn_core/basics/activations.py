"""Keras's activation functions and their derivatives in NumPy: no overflow, no NaN, any x.

Every value equals ``keras.activations.<name>`` (Keras 3 defaults) and every derivative equals
the gradient TensorFlow's ``GradientTape`` gives, including the side it picks at a kink.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

SELU_ALPHA = 1.6732632423543772848170429916717  # TensorFlow's constants for tf.nn.selu
SELU_SCALE = 1.0507009873554804934193349852946
# TensorFlow rounds these two constants to float32 even for float64 tensors: LeakyRelu's alpha
# is a float32 op attribute, and tf.nn.gelu casts the Python float 1/sqrt(2) via a float32 tensor.
LEAKY_RELU_SLOPE = float(np.float32(0.2))  # keras.activations.leaky_relu's negative_slope
GELU_C = float(np.float32(0.7071067811865476))  # tf.nn.gelu: 0.5 x erfc(-x * GELU_C)
_erfc = np.vectorize(math.erfc, otypes=[float])


@dataclass(frozen=True)
class Activation:
    """One activation: its Keras name, f(x), f'(x) elementwise, and what it is good for."""

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]
    summary: str
    elementwise: bool = True


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: exp only ever sees -|x|; any shape in, same shape out."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for any x; same shape out."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _hard_sigmoid(x: np.ndarray) -> np.ndarray:
    """relu6(x + 3) / 6, Keras 3's hard sigmoid (0 below -3, 1 above 3)."""
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _hard_sigmoid_grad(x: np.ndarray) -> np.ndarray:
    """1/6 strictly inside (-3, 3), 0 elsewhere, as Relu6Grad gives at the corners."""
    z = x + 3.0
    return np.where((z > 0.0) & (z < 6.0), 1.0 / 6.0, 0.0)


def _gelu(x: np.ndarray) -> np.ndarray:
    """x Phi(x) = 0.5 x erfc(-x / sqrt 2), exactly as tf.nn.gelu(approximate=False) computes it."""
    return 0.5 * x * _erfc(-x * GELU_C)


def _gelu_grad(x: np.ndarray) -> np.ndarray:
    """d/dx of 0.5 x erfc(-c x) = Phi(x) + x phi(x) (with TF's c)."""
    return 0.5 * _erfc(-x * GELU_C) + x * GELU_C / math.sqrt(math.pi) * np.exp(-((x * GELU_C) ** 2))


def _selu_grad(x: np.ndarray) -> np.ndarray:
    """scale alpha e^x where TF's output is negative (e^x < 1: not for x = -1e-17), else scale."""
    e = np.exp(np.minimum(x, 0.0))
    return SELU_SCALE * np.where(e < 1.0, SELU_ALPHA * e, 1.0)


def _mish_grad(x: np.ndarray) -> np.ndarray:
    """d/dx of x tanh(softplus(x))."""
    t = np.tanh(softplus(x))
    return t + x * (1.0 - t * t) * sigmoid(x)


def _silu_grad(x: np.ndarray) -> np.ndarray:
    """d/dx of x sigmoid(x) = s (1 + x (1 - s)), tf.nn.silu's own gradient."""
    s = sigmoid(x)
    return s * (1.0 + x * (1.0 - s))


def softmax(x: ArrayLike, axis: int = -1) -> np.ndarray:
    """exp(x - max) / sum along `axis`: a probability vector per row; (..., k) -> (..., k)."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return np.ones_like(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_jacobian(x: ArrayLike) -> np.ndarray:
    """d softmax_i / d x_j over the last axis: diag(s) - s s^T; (..., k) -> (..., k, k)."""
    s = softmax(np.atleast_1d(np.asarray(x, dtype=float)))
    return np.einsum("...i,ij->...ij", s, np.eye(s.shape[-1])) - s[..., :, None] * s[..., None, :]


def _softmax_grad(x: np.ndarray) -> np.ndarray:
    """The Jacobian's diagonal d s_i / d x_i = s_i (1 - s_i), same shape as x."""
    s = softmax(x)
    return s * (1.0 - s)


def _elu(x: np.ndarray) -> np.ndarray:
    """x above 0, e^x - 1 below (alpha 1); expm1 of min(x, 0) never overflows."""
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


A = Activation
_ENTRIES = (
    A("linear", lambda x: x, np.ones_like,
      "identity: no squashing; the output layer of a regression"),
    A("sigmoid", sigmoid, lambda x: sigmoid(x) * (1.0 - sigmoid(x)),
      "squashes to (0, 1) and saturates beyond about ±4: binary outputs"),
    A("relu", lambda x: np.maximum(x, 0.0), lambda x: np.where(x > 0, 1.0, 0.0),
      "zeroes negatives; cheap, the default for hidden layers"),
    A("tanh", np.tanh, lambda x: 1.0 - np.tanh(x) ** 2,
      "squashes to (-1, 1): a zero-centred sigmoid; saturates beyond about ±2"),
    A("elu", _elu, lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0))),
      "relu with a smooth negative part that saturates at -1; mean closer to 0"),
    A("selu", lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * _elu(x)), _selu_grad,
      "scaled elu that keeps activations normalised (with lecun_normal init)"),
    A("softplus", softplus, sigmoid,
      "log(1 + e^x): a smooth relu, always positive"),
    A("softsign", lambda x: x / (1.0 + np.abs(x)), lambda x: 1.0 / (1.0 + np.abs(x)) ** 2,
      "x / (1 + |x|): like tanh but approaches ±1 slowly, polynomially"),
    A("hard_sigmoid", _hard_sigmoid, _hard_sigmoid_grad,
      "piecewise-linear sigmoid relu6(x + 3) / 6: cheap, exactly 0 / 1 beyond ±3"),
    A("exponential", np.exp, np.exp,
      "e^x: positive outputs such as rates; explodes for large x"),
    A("leaky_relu", lambda x: np.where(x > 0, x, LEAKY_RELU_SLOPE * x),
      lambda x: np.where(x > 0, 1.0, LEAKY_RELU_SLOPE),
      "relu with slope 0.2 for negatives, so no unit dies"),
    A("relu6", lambda x: np.clip(x, 0.0, 6.0), lambda x: np.where((x > 0) & (x < 6), 1.0, 0.0),
      "relu capped at 6: robust in low-precision (mobile) networks"),
    A("gelu", _gelu, _gelu_grad,
      "x * Phi(x): a smooth relu weighting inputs by their value; transformers' choice"),
    A("silu", lambda x: x * sigmoid(x), _silu_grad,
      "x * sigmoid(x): smooth, dips slightly below 0; used in modern deep nets"),
    A("swish", lambda x: x * sigmoid(x), _silu_grad,
      "Keras's other name for silu: the same function"),
    A("mish", lambda x: x * np.tanh(softplus(x)), _mish_grad,
      "x * tanh(softplus(x)): smooth and non-monotonic, like silu"),
    A("hard_silu", lambda x: x * _hard_sigmoid(x),
      lambda x: _hard_sigmoid(x) + x * _hard_sigmoid_grad(x),
      "x * hard_sigmoid(x): the cheap piecewise version of silu"),
    A("log_sigmoid", lambda x: -softplus(-x), lambda x: sigmoid(-x),
      "log(sigmoid(x)): log-probabilities, always negative"),
    A("softmax", softmax, _softmax_grad,
      "turns a vector into probabilities summing to 1: multi-class outputs", elementwise=False),
)
ACTIVATIONS: dict[str, Activation] = {a.name: a for a in _ENTRIES}
ALIASES: dict[str, str] = {"swish": "silu"}  # keys that repeat another key's curve
ELEMENTWISE_ACTIVATIONS: tuple[str, ...] = tuple(k for k, a in ACTIVATIONS.items() if a.elementwise)


def get_activation(name: str) -> Activation:
    """The table entry for a Keras activation name; ValueError naming the choices otherwise."""
    if name not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def activate(name: str, x: ArrayLike) -> np.ndarray:
    """f(x) as float64, same shape as x (softmax along the last axis)."""
    return get_activation(name).fn(np.asarray(x, dtype=float))


def activation_derivative(name: str, x: ArrayLike) -> np.ndarray:
    """f'(x) elementwise as float64, same shape as x (softmax: the Jacobian's diagonal)."""
    return get_activation(name).derivative(np.asarray(x, dtype=float))
