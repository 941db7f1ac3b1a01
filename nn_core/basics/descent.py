"""Gradient descent on lesson 002's two-weight model y = X @ w (Dense(1, use_bias=False)).

The model's side: Keras's loss and its gradient, the error surface, trajectories and the SGD
thresholds. The optimizers (Keras 3's update rules, step for step) live in
nn_core.basics.optimizers; this module only uses them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from nn_core.basics.losses import LOSSES, ONE_OUTPUT_LOSSES, Loss, elementwise_loss
from nn_core.basics.optimizers import Run, Stepper

DIVERGENCE_LIMIT = 1e6  # |w| beyond this counts as diverged (the plot shows [-1.5, 1.5]^2)
MAX_STEPS = 100_000


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Weights (k+1, 2) and losses (k+1,) from the start; cut before the first diverged step."""

    optimizer: str
    weights: np.ndarray
    losses: np.ndarray
    diverged: bool
    diverged_at: int | None
    settings: dict[str, float] = field(default_factory=dict)  # learning_rate and hypers used


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


def _gradients(W: np.ndarray, X: np.ndarray, T: np.ndarray,
               pair: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
               ) -> np.ndarray:
    """dL/dw (k, 2) for k weight pairs W (k, 2); T is the targets once per pair (k, n).

    ``pair`` is the loss's elementwise (value, gradient) (``losses.elementwise_loss``); the
    division and product are ``Loss.gradient``'s mean over all k n predictions, times k, in the
    same order, so every bit equals it without its shape checks (the trajectories' hot loop).
    """
    k, n = T.shape
    return (pair(T, W @ X.T)[1] / (k * n) * k) @ X


def loss_and_gradient(w: ArrayLike, inputs: ArrayLike, targets: ArrayLike,
                      loss: str = "mse") -> tuple[float, np.ndarray]:
    """Keras's loss of y = inputs @ w and its gradient dL/dw (2,) at one weight pair w (2,)."""
    X, y, fn = _problem(inputs, targets, loss)
    W = _point(w, "w")[None]
    grad = _gradients(W, X, y[None], elementwise_loss(loss))[0]
    return float(_mean_loss(W, X, y, fn)[0]), grad


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


class Walk:
    """Every run of ``runs`` from ``start``, stepped together as far as asked so far.

    ``trajectories(steps)`` equals ``trajectories(runs, start, inputs, targets, loss, steps)``
    bit for bit, but a walk keeps its weights and optimizer state: asking for more steps
    continues from the last one computed, and fewer steps are a slice. The descent page keeps
    one walk per data set and runs (process-wide), so a student who moves "Steps" from 5,000
    to 7,500 costs 2,500 updates, and back to 5,000 none. Thread-safe: the server's sessions
    share walks.
    """

    def __init__(self, runs: Sequence[Run], start: ArrayLike, inputs: ArrayLike,
                 targets: ArrayLike, loss: str = "mse") -> None:
        self._X, self._y, self._fn = _problem(inputs, targets, loss)
        w0 = _point(start, "start")
        if np.abs(w0).max() > DIVERGENCE_LIMIT:
            raise ValueError(f"start must lie within ±{DIVERGENCE_LIMIT:g}, got {w0.tolist()}")
        self.runs = list(runs)
        self._stepper = Stepper(self.runs, 0)
        self._W = np.tile(w0, (len(self.runs), 1))  # (k, 2), the weights after the last step
        self._path = self._W[None].copy()  # (steps computed + 1, k, 2)
        self._T, self._pair = np.tile(self._y, (len(self.runs), 1)), elementwise_loss(loss)
        self._lock = threading.Lock()

    @property
    def computed(self) -> int:
        """How many steps are computed so far."""
        return len(self._path) - 1

    @property
    def nbytes(self) -> int:
        """The memory the walk's arrays hold: the path and the per-step learning rates."""
        return int(self._path.nbytes + self._stepper.lr_t.nbytes)

    def _extend(self, steps: int) -> None:
        done = self.computed
        if steps <= done:
            return
        path = np.empty((steps + 1, *self._W.shape))
        path[:done + 1] = self._path
        self._stepper.extend(steps)
        W, X, T, pair, stepper = self._W, self._X, self._T, self._pair, self._stepper
        with np.errstate(all="ignore"):  # a diverging run overflows quietly; it is cut below
            for i in range(done, steps):
                stepper.step(i, W, _gradients(W, X, T, pair))
                path[i + 1] = W
        self._path = path

    def trajectories(self, steps: int = 1000) -> list[Trajectory]:
        """Every run's path for its first ``steps`` steps, cut before a divergence."""
        if not isinstance(steps, int | np.integer) or not 0 <= steps <= MAX_STEPS:
            raise ValueError(f"steps must be an integer from 0 to {MAX_STEPS}, got {steps!r}")
        with self._lock:
            self._extend(int(steps))
            path = self._path[:steps + 1]  # (steps + 1, runs, 2)
        with np.errstate(all="ignore"):
            losses = _mean_loss(path, self._X, self._y, self._fn)  # (steps + 1, runs)
            bad = ~np.isfinite(path).all(-1) | (np.abs(path) > DIVERGENCE_LIMIT).any(-1)
            bad |= ~np.isfinite(losses)
        out = []
        for j, run in enumerate(self.runs):
            stop = int(np.argmax(bad[:, j])) if bad[:, j].any() else None
            end = steps + 1 if stop is None else stop
            out.append(Trajectory(run.optimizer, path[:end, j].copy(), losses[:end, j].copy(),
                                  stop is not None, stop, self._stepper.settings[j]))
        return out


def trajectories(runs: Sequence[Run], start: ArrayLike, inputs: ArrayLike, targets: ArrayLike,
                 loss: str = "mse", steps: int = 1000) -> list[Trajectory]:
    """Every run of ``runs`` from ``start`` for ``steps`` full-batch steps, computed together."""
    return Walk(runs, start, inputs, targets, loss).trajectories(steps)


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


def steps_needed(run: Run, start: ArrayLike, inputs: ArrayLike, targets: ArrayLike,
                 point: ArrayLike, loss: str = "mse", max_steps: int = 1000, tol: float = 0.01,
                 chunk: int = 256) -> int | None:
    """``steps_to_reach(trajectory(...), point, tol)`` for ``max_steps`` steps of ``run``, without
    following the run further than needed: the same updates, checked every ``chunk`` steps, so
    the course's Adam stops at its 4,169th step instead of computing all 20,000 (the descent
    page asks this on every new data set). None when it does not get there, or diverges."""
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    X, y, _ = _problem(inputs, targets, loss)
    target, w0 = _point(point, "point"), _point(start, "start")
    if not isinstance(max_steps, int | np.integer) or not 0 <= max_steps <= MAX_STEPS:
        raise ValueError(f"max_steps must be an integer from 0 to {MAX_STEPS}, got {max_steps!r}")
    if np.linalg.norm(w0 - target) <= tol:
        return 0
    stepper = Stepper([run], max_steps)
    W, T, pair = w0[None].copy(), y[None], elementwise_loss(loss)
    block = np.empty((max(1, int(chunk)), 2))
    with np.errstate(all="ignore"):
        for first in range(0, max_steps, len(block)):
            count = min(len(block), max_steps - first)
            for i in range(count):
                stepper.step(first + i, W, _gradients(W, X, T, pair))
                block[i] = W[0]
            done = block[:count]
            bad = ~np.isfinite(done).all(-1) | (np.abs(done) > DIVERGENCE_LIMIT).any(-1)
            near = np.linalg.norm(done - target, axis=1) <= tol
            end = int(np.argmax(bad)) if bad.any() else count  # steps before a divergence
            if near[:end].any():
                return first + 1 + int(np.argmax(near[:end]))
            if end < count:
                return None
    return None


def steps_to_reach(traj: Trajectory, point: ArrayLike, tol: float = 0.01) -> int | None:
    """First step whose weights are within ``tol`` (Euclidean) of ``point``, else None."""
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    near = np.linalg.norm(traj.weights - _point(point, "point"), axis=1) <= tol
    return int(np.argmax(near)) if near.any() else None
