"""Keras's loss functions and their gradients with respect to the prediction, in NumPy.

Values equal ``keras.losses.<name>`` (per sample) and the ``keras.losses`` classes (mean over
samples, Keras's default "sum_over_batch_size"); gradients equal ``tf.GradientTape`` on that
mean, including zero gradient where Keras clips a probability to [1e-7, 1 - 1e-7].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from nn_core.basics.activations import sigmoid, softplus

EPSILON = 1e-7  # keras.config.epsilon()
# Keras builds two constants as float32 tensors, so float64 runs see them rounded to float32:
MSLE_EPSILON = float(np.float32(EPSILON))  # ops.convert_to_tensor(epsilon()) without a dtype
LOG2 = float(np.float32(np.log(2.0)))  # log_cosh's ops.log(2.0)
HUBER_DELTA = 1.0
Array = np.ndarray


@dataclass(frozen=True)
class Loss:
    """One loss: its Keras name, per-sample value, gradient of the mean, summary and kind."""

    name: str
    fn: Callable[[Array, Array], Array]
    gradient: Callable[[Array, Array], Array]
    summary: str
    kind: str  # "regression" | "binary" | "categorical"


def _align(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[Array, Array]:
    """Keras's squeeze_or_expand_to_same_rank: (n,) vs (n, 1) become (n, 1); scalars (1,)."""
    t = np.atleast_1d(np.asarray(y_true, dtype=float))
    p = np.atleast_1d(np.asarray(y_pred, dtype=float))
    if t.ndim == p.ndim + 1 and t.shape[-1] == 1:
        t, p = (t, p[:, None]) if p.ndim == 1 else (t[..., 0], p)
    elif p.ndim == t.ndim + 1 and p.shape[-1] == 1:
        t, p = (t[:, None], p) if t.ndim == 1 else (t, p[..., 0])
    if t.shape != p.shape:
        raise ValueError(f"y_true shape {t.shape} does not match y_pred shape {p.shape}")
    return t, p


def _hinge_labels(t: Array) -> Array:
    """Keras turns labels into -1/1 when *every* label is 0 or 1; other labels pass unchanged."""
    return 2.0 * t - 1.0 if np.all((t == 0) | (t == 1)) else t


def _clip_mask(x: Array, low: float, high: float) -> Array:
    """1 where tf.clip_by_value lets the gradient through (low <= x <= high), else 0."""
    return ((x >= low) & (x <= high)).astype(float)


def _bce(t: Array, p: Array) -> tuple[Array, Array]:
    c = np.clip(p, EPSILON, 1.0 - EPSILON)
    value = -(t * np.log(c) + (1.0 - t) * np.log(1.0 - c))
    return value, _clip_mask(p, EPSILON, 1.0 - EPSILON) * ((1.0 - t) / (1.0 - c) - t / c)


def _msle(t: Array, p: Array) -> tuple[Array, Array]:
    a, b = np.log(np.maximum(p, MSLE_EPSILON) + 1.0), np.log(np.maximum(t, MSLE_EPSILON) + 1.0)
    return (a - b) ** 2, 2.0 * (a - b) / (np.maximum(p, MSLE_EPSILON) + 1.0) * (p >= MSLE_EPSILON)


def _mape(t: Array, p: Array) -> tuple[Array, Array]:
    d = np.maximum(np.abs(t), EPSILON)
    return 100.0 * np.abs((t - p) / d), 100.0 * np.sign(p - t) / d


def _huber(t: Array, p: Array) -> tuple[Array, Array]:
    e = p - t
    small = np.abs(e) <= HUBER_DELTA
    value = np.where(small, 0.5 * e * e, HUBER_DELTA * np.abs(e) - 0.5 * HUBER_DELTA**2)
    return value, np.where(small, e, HUBER_DELTA * np.sign(e))


def _poisson(t: Array, p: Array) -> tuple[Array, Array]:
    z = p + EPSILON  # log of a negative rate is NaN in Keras too; computed without a warning
    log_z = np.where(z > 0, np.log(np.where(z > 0, z, 1.0)), np.where(z == 0, -np.inf, np.nan))
    return p - t * log_z, 1.0 - t / np.where(z == 0, np.nan, z)


def _hinge(t: Array, p: Array) -> tuple[Array, Array]:
    s = _hinge_labels(t)
    m = 1.0 - s * p
    return np.maximum(m, 0.0), np.where(m >= 0, -s, 0.0)  # tf.maximum's tie goes to m


def _squared_hinge(t: Array, p: Array) -> tuple[Array, Array]:
    s = _hinge_labels(t)
    m = np.maximum(1.0 - s * p, 0.0)
    return m * m, -2.0 * m * s


# Elementwise losses: (y_true, y_pred) -> (value, d value / d y_pred), then the last axis mean.
_ELEMENTWISE: dict[str, Callable[[Array, Array], tuple[Array, Array]]] = {
    "mae": lambda t, p: (np.abs(t - p), np.sign(p - t)),
    "mse": lambda t, p: ((t - p) ** 2, 2.0 * (p - t)),
    "binary_crossentropy": _bce,
    "huber": _huber,
    "log_cosh": lambda t, p: (p - t + softplus(-2.0 * (p - t)) - LOG2,
                              1.0 - 2.0 * sigmoid(-2.0 * (p - t))),
    "mean_squared_logarithmic_error": _msle,
    "mean_absolute_percentage_error": _mape,
    "hinge": _hinge,
    "squared_hinge": _squared_hinge,
    "poisson": _poisson,
}


def _cce(t: Array, p: Array) -> tuple[Array, Array]:
    """Keras renormalises p to sum 1, clips to [eps, 1 - eps], then -sum(t log p)."""
    s = np.sum(p, axis=-1, keepdims=True)
    q = p / s
    c = np.clip(q, EPSILON, 1.0 - EPSILON)
    g = -t / c * _clip_mask(q, EPSILON, 1.0 - EPSILON)
    return -np.sum(t * np.log(c), axis=-1), (g - np.sum(g * q, axis=-1, keepdims=True)) / s


def _sparse_cce(labels: Array, p: Array) -> tuple[Array, Array]:
    """Keras clips p, then softmax-crossentropy on log(p): log(sum p) - log(p[label])."""
    c = np.clip(p, EPSILON, 1.0 - EPSILON)
    onehot = np.eye(p.shape[-1])[labels]
    s = np.sum(c, axis=-1, keepdims=True)
    value = np.log(s[..., 0]) - np.log(np.sum(c * onehot, axis=-1))
    return value, _clip_mask(p, EPSILON, 1.0 - EPSILON) * (1.0 / s - onehot / c)


def _kl(t: Array, p: Array) -> tuple[Array, Array]:
    tc, pc = np.clip(t, EPSILON, 1.0), np.clip(p, EPSILON, 1.0)
    return np.sum(tc * np.log(tc / pc), axis=-1), -tc / pc * _clip_mask(p, EPSILON, 1.0)


def _inv_norm(x: Array) -> Array:
    """Keras's normalize: min(rsqrt(sum x^2), 1/eps) over the last axis, keepdims."""
    s = np.sum(x * x, axis=-1, keepdims=True)
    return np.minimum(np.where(s > 0, 1.0 / np.sqrt(np.where(s > 0, s, 1.0)), np.inf), 1 / EPSILON)


def _cosine(t: Array, p: Array) -> tuple[Array, Array]:
    th, r = t * _inv_norm(t), _inv_norm(p)
    ph = p * r
    dot = np.sum(th * ph, axis=-1, keepdims=True)
    grad = np.where(r < 1 / EPSILON, -r * (th - dot * ph), -th / EPSILON)
    return -dot[..., 0], grad


def _categorical_hinge(t: Array, p: Array) -> tuple[Array, Array]:
    """max(max((1 - t) p) - sum(t p) + 1, 0); TF's max splits its gradient between ties."""
    other = (1.0 - t) * p
    neg = np.max(other, axis=-1, keepdims=True)
    ties = (other == neg).astype(float)
    margin = neg[..., 0] - np.sum(t * p, axis=-1) + 1.0
    d_neg = (1.0 - t) * ties / np.sum(ties, axis=-1, keepdims=True)
    return np.maximum(margin, 0.0), (margin >= 0)[..., None] * (d_neg - t)


# Vector losses: (y_true, y_pred) -> (per-sample value, d sum of values / d y_pred).
_VECTOR: dict[str, Callable[[Array, Array], tuple[Array, Array]]] = {
    "categorical_crossentropy": _cce,
    "kl_divergence": _kl,
    "categorical_hinge": _categorical_hinge,
    "cosine_similarity": _cosine,
}


def _sparse_labels(y_true: ArrayLike, p: Array) -> Array:
    """Integer labels (n,) or (n, 1) for (n, k) probabilities; ValueError if not in [0, k)."""
    t = np.asarray(y_true, dtype=float)
    if t.ndim == p.ndim and t.shape[-1:] == (1,):
        t = t[..., 0]
    if t.shape != p.shape[:-1]:
        raise ValueError(f"labels shape {t.shape} does not fit y_pred shape {p.shape}")
    if not np.all((t == np.round(t)) & (t >= 0) & (t < p.shape[-1])):
        raise ValueError(f"sparse labels must be integers in [0, {p.shape[-1]}), got {t}")
    return t.astype(int)


def _value_and_grad(name: str, y_true: ArrayLike, y_pred: ArrayLike) -> tuple[Array, Array]:
    """Per-sample values (...,) and d(mean of them)/d y_pred, shaped like y_pred."""
    shape = np.shape(y_pred)
    if name == "sparse_categorical_crossentropy":
        p = np.atleast_1d(np.asarray(y_pred, dtype=float))
        value, grad = _sparse_cce(_sparse_labels(y_true, p), p)
    elif name in _ELEMENTWISE:
        t, p = _align(y_true, y_pred)
        value, grad = _ELEMENTWISE[name](t, p)
        value, grad = np.mean(value, axis=-1), grad / p.shape[-1]
    elif name in _VECTOR:
        value, grad = _VECTOR[name](*_align(y_true, y_pred))
    else:
        raise ValueError(f"Unknown loss {name!r}; choose one of: {', '.join(LOSSES)}")
    return value, (grad / max(np.size(value), 1)).reshape(shape)


def elementwise_loss(name: str) -> Callable[[Array, Array], tuple[Array, Array]]:
    """(y_true, y_pred) -> (value, d value / d y_pred), elementwise on arrays of one shape.

    The raw pair behind ``LOSSES[name]`` with no shape alignment or averaging, for hot loops
    (descent's trajectories) that call it thousands of times; ValueError if not elementwise.
    """
    if name not in _ELEMENTWISE:
        raise ValueError(f"{name!r} is not an elementwise loss; choose one of: "
                         f"{', '.join(_ELEMENTWISE)}")
    return _ELEMENTWISE[name]


def _entry(name: str, summary: str, kind: str) -> Loss:
    return Loss(name, lambda t, p: _value_and_grad(name, t, p)[0],
                lambda t, p: _value_and_grad(name, t, p)[1], summary, kind)


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (
    _entry("mse", "mean squared error: punishes big misses hard; the regression default",
           "regression"),
    _entry("mae", "mean absolute error: every unit of miss costs the same; robust to outliers",
           "regression"),
    _entry("huber", "squared for misses under 1, linear beyond: mse's smoothness, mae's "
           "robustness", "regression"),
    _entry("log_cosh", "log(cosh(miss)): about miss^2 / 2 when small, |miss| - log 2 when big",
           "regression"),
    _entry("mean_squared_logarithmic_error", "mse of log(1 + y): relative errors, for targets "
           "spanning orders of magnitude", "regression"),
    _entry("mean_absolute_percentage_error", "100 * |miss / target|: error in percent; explodes "
           "near a zero target", "regression"),
    _entry("poisson", "pred - target * log(pred): for counts and rates (positive predictions)",
           "regression"),
    _entry("cosine_similarity", "minus the cosine between vectors: only direction matters",
           "regression"),
    _entry("binary_crossentropy", "log loss of a probability in (0, 1) against a 0/1 label "
           "(sigmoid output)", "binary"),
    _entry("hinge", "max(1 - y * pred, 0) with labels ±1 (0/1 converted): margin, as in SVMs",
           "binary"),
    _entry("squared_hinge", "hinge squared: smooth at the margin, harsher on big misses",
           "binary"),
    _entry("categorical_crossentropy", "-sum(one-hot * log p) over classes (softmax output)",
           "categorical"),
    _entry("sparse_categorical_crossentropy", "categorical crossentropy with integer labels "
           "instead of one-hot", "categorical"),
    _entry("kl_divergence", "how far the predicted distribution is from the true one "
           "(sum t log(t / p))", "categorical"),
    _entry("categorical_hinge", "margin between the true class's score and the best other "
           "class's", "categorical"),
)}
# Losses that make sense as a curve of one prediction against one target (the curves page).
REGRESSION_LOSSES: tuple[str, ...] = tuple(
    k for k, v in LOSSES.items() if v.kind == "regression" and k != "cosine_similarity"
)
BINARY_LOSSES: tuple[str, ...] = tuple(k for k, v in LOSSES.items() if v.kind == "binary")
ONE_OUTPUT_LOSSES: tuple[str, ...] = REGRESSION_LOSSES + BINARY_LOSSES  # one output's losses


def get_loss(name: str) -> Loss:
    """The table entry for a Keras loss name; ValueError naming the choices otherwise."""
    if name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; choose one of: {', '.join(LOSSES)}")
    return LOSSES[name]


def loss_value(name: str, y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """The loss Keras reports (mean of the per-sample values); y (n,), (n, k) or scalars."""
    return float(np.mean(get_loss(name).fn(y_true, y_pred)))


def loss_gradient(name: str, y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """d loss_value / d y_pred, same shape as y_pred."""
    return get_loss(name).gradient(y_true, y_pred)
