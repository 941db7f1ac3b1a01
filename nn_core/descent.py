"""Gradient descent on lesson 002's two-weight model y = X @ w (Dense(1, use_bias=False)).

The seven optimizers follow Keras 3's update rules (same defaults, same epsilon placement), so
each trajectory equals what ``keras.optimizers`` does to the Keras model. They are written as one
update with per-optimizer coefficients, so any mix of runs steps together in one NumPy loop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from nn_core.losses import BINARY_LOSSES, LOSSES, REGRESSION_LOSSES, Loss

if TYPE_CHECKING:
    import keras

ONE_OUTPUT_LOSSES: tuple[str, ...] = REGRESSION_LOSSES + BINARY_LOSSES  # losses for one output
DIVERGENCE_LIMIT = 1e6  # |w| beyond this counts as diverged (the plot shows [-1.5, 1.5]^2)
MAX_STEPS = 100_000
_EPS = 1e-7  # keras.config.epsilon(), every optimizer's default epsilon


@dataclass(frozen=True)
class Optimizer:
    """One Keras optimizer: its Keras class, default hyper-parameters and what it is good for."""

    name: str
    label: str
    keras_class: str
    defaults: dict[str, float]
    summary: str
    fixed: dict[str, Any] = field(default_factory=dict)  # Keras kwargs the user cannot change


OPTIMIZERS: dict[str, Optimizer] = {o.name: o for o in (
    Optimizer("sgd", "SGD", "SGD", {"learning_rate": 0.01},
              "Plain steps down the slope, w -= lr * grad: zig-zags and crawls in ravines."),
    Optimizer("momentum", "SGD + momentum", "SGD", {"learning_rate": 0.01, "momentum": 0.9},
              "Keeps a velocity: rolls through flat parts, damps the zig-zag in ravines."),
    Optimizer("nesterov", "Nesterov", "SGD", {"learning_rate": 0.01, "momentum": 0.9},
              "Momentum that looks one step ahead: overshoots less.", {"nesterov": True}),
    Optimizer("rmsprop", "RMSprop", "RMSprop",
              {"learning_rate": 0.001, "rho": 0.9, "epsilon": _EPS},
              "Divides each step by a running RMS of the gradient: one pace for every weight."),
    Optimizer("adagrad", "Adagrad", "Adagrad",
              {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": _EPS},
              "Divides by the root of all past squared gradients: steps shrink over time."),
    Optimizer("adadelta", "Adadelta", "Adadelta",
              {"learning_rate": 0.001, "rho": 0.95, "epsilon": _EPS},
              "Step from running RMS of past steps over past gradients: tiny at Keras's lr 0.001."),
    Optimizer("adam", "Adam", "Adam",
              {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": _EPS},
              "Momentum plus RMSprop with bias correction: the course's Adam(0.001)."),
)}


@dataclass(frozen=True)
class Run:
    """One optimizer run: its name, learning rate (None: the Keras default), other hypers."""

    optimizer: str
    learning_rate: float | None = None
    hyper: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Weights (k+1, 2) and losses (k+1,) from the start; cut before the first diverged step."""

    optimizer: str
    weights: np.ndarray
    losses: np.ndarray
    diverged: bool
    diverged_at: int | None
    settings: dict[str, float] = field(default_factory=dict)  # learning_rate and hypers used


def _settings(name: str, learning_rate: float | None, hyper: Mapping[str, float]) -> dict:
    """The optimizer's Keras defaults overridden by the given values; ValueError if invalid."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    defaults = OPTIMIZERS[name].defaults
    if unknown := sorted(set(hyper) - set(defaults)):
        raise ValueError(f"{name} has no hyper-parameter {unknown}; it has {list(defaults)}")
    lr = {} if learning_rate is None else {"learning_rate": learning_rate}
    out = {k: float(v) for k, v in {**defaults, **hyper, **lr}.items()}
    for key, v in out.items():
        ok = {"learning_rate": v > 0, "beta_1": v < 1, "beta_2": v < 1}.get(key, True)
        if not (ok and 0 <= v <= (1 if key in ("momentum", "rho") else v) and math.isfinite(v)):
            raise ValueError(f"{name}: {key} = {v} is out of range (learning_rate > 0, epsilon "
                             "and initial_accumulator_value >= 0, momentum/rho/betas in [0, 1])")
    return out


def keras_optimizer(name: str, learning_rate: float | None = None,
                    **hyper: float) -> keras.optimizers.Optimizer:
    """The matching ``keras.optimizers`` object (imports Keras here, not at module import)."""
    import keras

    kwargs = _settings(name, learning_rate, hyper) | OPTIMIZERS[name].fixed
    return getattr(keras.optimizers, OPTIMIZERS[name].keras_class)(**kwargs)


def _tf_cast(x: float) -> float:
    """Keras's ``ops.cast(python_float, dtype)`` makes a float32 tensor first (TensorFlow's
    default), so SGD's momentum, Adam's beta powers and Adagrad's initial accumulator are the
    float32-rounded values even in a float64 model; the same happens here."""
    return float(np.float32(x))


def _coefficients(name: str, h: dict[str, float]) -> dict[str, float]:
    """How one Keras optimizer fits the shared update of ``_step`` (its Keras formula first).

    sgd       w -= lr g                   momentum  m = mu m - lr g; w += m
    nesterov  m = mu m - lr g; w += mu m - lr g   (both kept here as m' = -m / lr)
    rmsprop   v = rho v + (1-rho) g^2; w -= lr g / sqrt(v + eps)
    adagrad   v += g^2 (v starts at initial_accumulator_value); w -= lr g / sqrt(v + eps)
    adadelta  v = rho v + (1-rho) g^2; d = sqrt(u + eps) g / sqrt(v + eps);
              u = rho u + (1-rho) d^2; w -= lr d
    adam      m += (g - m)(1-b1); v += (g^2 - v)(1-b2); w -= lr_t m / (sqrt(v) + eps),
              lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)
    """
    c = dict.fromkeys(("rho_v", "c_v", "v0", "eps_out", "rho_u", "c_u", "mu", "c_m", "a_m", "b1",
                       "b2"), 0.0) | {"eps_in": 1.0, "eps_u": 1.0, "a_d": 1.0}
    if name in ("momentum", "nesterov"):
        mu = _tf_cast(h["momentum"])
        c |= {"mu": mu, "c_m": 1.0, "a_m": 1.0, "a_d": 0.0} if name == "momentum" else {
            "mu": mu, "c_m": 1.0, "a_m": mu, "a_d": 1.0}
    elif name in ("rmsprop", "adadelta"):
        c |= {"rho_v": h["rho"], "c_v": 1.0 - h["rho"], "eps_in": h["epsilon"]}
        if name == "adadelta":
            c |= {"eps_u": h["epsilon"], "rho_u": h["rho"], "c_u": 1.0 - h["rho"]}
    elif name == "adagrad":
        c |= {"rho_v": 1.0, "c_v": 1.0, "v0": _tf_cast(h["initial_accumulator_value"]),
              "eps_in": h["epsilon"]}
    elif name == "adam":
        b1, b2 = h["beta_1"], h["beta_2"]
        c |= {"rho_v": b2, "c_v": 1.0 - b2, "eps_in": 0.0, "eps_out": h["epsilon"], "mu": b1,
              "c_m": 1.0 - b1, "a_m": 1.0, "a_d": 0.0, "b1": _tf_cast(b1), "b2": _tf_cast(b2)}
    return c


def _step(w: np.ndarray, g: np.ndarray, st: dict[str, np.ndarray], c: dict[str, np.ndarray],
          lr_t: np.ndarray, used: set[str]) -> None:
    """One update of every run at once, in place: w, g, state (k, 2), coefficients (k, 1).

    ``used`` names the state the runs need ("v", "m", "u"); skipping the rest is exact, since
    its terms are then 0 (m), 1 (sqrt(0 + 1) for v) or g itself (u)."""
    v, m, u = st["v"], st["m"], st["u"]
    if "v" in used:  # second moment: rmsprop, adagrad, adadelta, adam
        v *= c["rho_v"]
        v += c["c_v"] * (g * g)
    s = np.sqrt(u + c["eps_u"]) * g if "u" in used else g  # adadelta: times rms of past steps
    step = s
    if "m" in used:  # momentum, nesterov, adam's first moment
        m *= c["mu"]
        m += c["c_m"] * s
        step = c["a_m"] * m + c["a_d"] * s
    if "v" in used:
        step = step / (np.sqrt(v + c["eps_in"]) + c["eps_out"])
    if "u" in used:
        u *= c["rho_u"]
        u += c["c_u"] * (step * step)
    w -= lr_t * step


def _problem(inputs: ArrayLike, targets: ArrayLike, loss: str,
             ) -> tuple[np.ndarray, np.ndarray, Loss]:
    """Inputs (n, 2), targets (n,) as finite float64, and a loss one output can take."""
    X, y = np.asarray(inputs, dtype=np.float64), np.asarray(targets, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0 or y.shape != (X.shape[0],):
        raise ValueError(f"need inputs of shape (n, 2) and n targets, got {X.shape} and {y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError("inputs and targets must be finite numbers")
    if loss not in ONE_OUTPUT_LOSSES:
        raise ValueError(f"unknown loss {loss!r} for one output; choose one of "
                         f"{', '.join(ONE_OUTPUT_LOSSES)}")
    return X, y, LOSSES[loss]


def _point(w: ArrayLike, what: str) -> np.ndarray:
    p = np.asarray(w, dtype=np.float64)
    if p.shape != (2,) or not np.isfinite(p).all():
        raise ValueError(f"{what} must be two finite numbers (w1, w2), got {p.tolist()}")
    return p


def _mean_loss(W: np.ndarray, X: np.ndarray, y: np.ndarray, loss: Loss) -> np.ndarray:
    """Keras's loss (mean over the n samples) at every weight pair: W (..., 2) -> (...)."""
    pred = (W @ X.T)[..., None]  # (..., n, 1), like model(X) per weight pair
    return loss.fn(np.broadcast_to(y[:, None], pred.shape), pred).mean(axis=-1)


def _gradients(W: np.ndarray, X: np.ndarray, y_rep: np.ndarray, loss: Loss) -> np.ndarray:
    """dL/dw (k, 2) for k weight pairs (k, 2); y_rep is the targets repeated k times (k n, 1)."""
    k = W.shape[0]
    d_pred = loss.gradient(y_rep, (W @ X.T).reshape(-1, 1)) * k  # it averaged over k n samples
    return d_pred.reshape(k, -1) @ X


def loss_and_gradient(w: ArrayLike, inputs: ArrayLike, targets: ArrayLike,
                      loss: str = "mse") -> tuple[float, np.ndarray]:
    """Keras's loss of y = inputs @ w and its gradient dL/dw (2,) at one weight pair w (2,)."""
    X, y, fn = _problem(inputs, targets, loss)
    W = _point(w, "w")[None]
    return float(_mean_loss(W, X, y, fn)[0]), _gradients(W, X, y[:, None], fn)[0]


def error_surface(inputs: ArrayLike, targets: ArrayLike, loss: str = "mse",
                  w_range: tuple[float, float] = (-1.5, 1.5), resolution: int = 61,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Axes w1 (r,), w2 (r,) and the loss Z (r, r) with Z[i, j] = L(w1[j], w2[i])."""
    X, y, fn = _problem(inputs, targets, loss)
    lo, hi = (float(v) for v in w_range)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi) or not 2 <= resolution <= 2001:
        raise ValueError(f"need finite w_range lo < hi and 2 <= resolution <= 2001, got "
                         f"{w_range}, {resolution}")
    axis = np.linspace(lo, hi, int(resolution))
    with np.errstate(all="ignore"):
        Z = _mean_loss(np.stack(np.meshgrid(axis, axis), axis=-1), X, y, fn)
    return axis, axis.copy(), Z


def trajectories(runs: Sequence[Run], start: ArrayLike, inputs: ArrayLike, targets: ArrayLike,
                 loss: str = "mse", steps: int = 1000) -> list[Trajectory]:
    """Every run of ``runs`` from ``start`` for ``steps`` full-batch steps, computed together."""
    X, y, fn = _problem(inputs, targets, loss)
    w0 = _point(start, "start")
    if np.abs(w0).max() > DIVERGENCE_LIMIT:
        raise ValueError(f"start must lie within ±{DIVERGENCE_LIMIT:g}, got {w0.tolist()}")
    if not isinstance(steps, int | np.integer) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an integer from 0 to {MAX_STEPS}, got {steps!r}")
    settings = [_settings(r.optimizer, r.learning_rate, r.hyper) for r in runs]
    coef = [_coefficients(r.optimizer, h) for r, h in zip(runs, settings, strict=True)]
    c = {key: np.array([ci[key] for ci in coef]).reshape(-1, 1) for key in _coefficients("", {})}
    t = np.arange(1, steps + 1)[:, None, None]  # Adam's bias correction; 1 elsewhere (b = 0)
    lr = np.array([h["learning_rate"] for h in settings]).reshape(-1, 1)
    lr_t = lr * np.sqrt(1.0 - c["b2"] ** t) / (1.0 - c["b1"] ** t)  # (steps, runs, 1)
    W = np.tile(w0, (len(runs), 1))
    state = {"v": np.zeros_like(W) + c["v0"], "m": np.zeros_like(W), "u": np.zeros_like(W)}
    used = {k for k, key in (("v", "c_v"), ("m", "c_m"), ("u", "c_u")) if c[key].any()}
    path = np.empty((steps + 1, *W.shape))
    path[0] = W
    y_rep = np.tile(y, len(runs))[:, None]
    with np.errstate(all="ignore"):  # a diverging run overflows quietly; it is cut below
        for i in range(steps):
            _step(W, _gradients(W, X, y_rep, fn), state, c, lr_t[i], used)
            path[i + 1] = W
        losses = _mean_loss(path, X, y, fn)  # (steps + 1, runs)
        bad = ~np.isfinite(path).all(-1) | (np.abs(path) > DIVERGENCE_LIMIT).any(-1)
        bad |= ~np.isfinite(losses)
    out = []
    for j, run in enumerate(runs):
        stop = int(np.argmax(bad[:, j])) if bad[:, j].any() else None
        end = steps + 1 if stop is None else stop
        out.append(Trajectory(run.optimizer, path[:end, j].copy(), losses[:end, j].copy(),
                              stop is not None, stop, settings[j]))
    return out


def trajectory(optimizer: str, start: ArrayLike, inputs: ArrayLike, targets: ArrayLike,
               loss: str = "mse", steps: int = 1000, learning_rate: float | None = None,
               **hyper: float) -> Trajectory:
    """One optimizer's path from ``start``: weights (k+1, 2), losses (k+1,), divergence flag."""
    run = Run(optimizer, learning_rate, hyper)
    return trajectories([run], start, inputs, targets, loss, steps)[0]


def lr_thresholds(inputs: ArrayLike) -> tuple[float, float]:
    """SGD on mse: (lr that reaches the minimum in one step, lr where divergence starts).

    Keras's mse averages over the n samples, so the Hessian is H = (2/n) X^T X and the
    thresholds along its stiffest direction are 1/lambda_max and 2/lambda_max (inf if X = 0).
    """
    X, _, _ = _problem(inputs, np.zeros(len(np.asarray(inputs))), "mse")
    lam = float(np.linalg.eigvalsh(2.0 / X.shape[0] * X.T @ X).max())
    return (1.0 / lam, 2.0 / lam) if lam > 0 else (math.inf, math.inf)


def mse_minimum(inputs: ArrayLike, targets: ArrayLike) -> np.ndarray:
    """The weights (2,) that minimise mse (least squares; the shortest one if not unique)."""
    X, y, _ = _problem(inputs, targets, "mse")
    return np.linalg.lstsq(X, y, rcond=None)[0]


def steps_to_reach(traj: Trajectory, point: ArrayLike, tol: float = 0.01) -> int | None:
    """First step whose weights are within ``tol`` (Euclidean) of ``point``, else None."""
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    near = np.linalg.norm(traj.weights - _point(point, "point"), axis=1) <= tol
    return int(np.argmax(near)) if near.any() else None
