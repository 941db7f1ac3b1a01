"""Keras 3's seven optimizers as one NumPy update with per-optimizer coefficients.

Same defaults and the same epsilon placement as ``keras.optimizers``, so every run equals what
Keras does step for step; any mix of runs steps together in one loop (``Stepper``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras

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


class Stepper:
    """Runs that step together: ``step(i, w, g)`` applies update i to weights w (k, dim) in place.

    Validates every run's settings (ValueError) and precomputes the coefficients and the
    learning rate of every step, lr_t (steps, k, 1), which holds Adam's bias correction.

    Why the buffers: a step is ~16 NumPy operations on (k, 2) arrays, each costing its call,
    not its arithmetic. With the coefficients spread to full (k, dim) arrays (a (k, 1) operand
    made every operation broadcast, twice as slow) and every result written into a kept buffer
    (``out=``) a step takes 5.7 µs instead of 14.4 (two runs; benchmarks/bench_descent.py
    times whole walks). The operations and their order are unchanged: every bit is the same.
    """

    def __init__(self, runs: Sequence[Run], steps: int, dim: int = 2) -> None:
        self.settings = [_settings(r.optimizer, r.learning_rate, r.hyper) for r in runs]
        coef = [_coefficients(r.optimizer, h) for r, h in zip(runs, self.settings, strict=True)]
        keys = _coefficients("", {})
        c = {key: np.array([ci[key] for ci in coef]).reshape(-1, 1) for key in keys}
        self._lr = np.array([h["learning_rate"] for h in self.settings]).reshape(-1, 1)
        self.c = c
        self.extend(steps)
        shape = (len(runs), dim)
        self._full = {key: np.ascontiguousarray(np.broadcast_to(value, shape))
                      for key, value in c.items()}  # (k, dim): no broadcasting in the loop
        self.state = {"v": np.zeros(shape) + c["v0"], "m": np.zeros(shape), "u": np.zeros(shape)}
        self.used = {k for k, key in (("v", "c_v"), ("m", "c_m"), ("u", "c_u")) if c[key].any()}
        self._step_buf, self._tmp = np.empty(shape), np.empty(shape)

    def extend(self, steps: int) -> None:
        """Allow ``steps`` updates in all: the learning rate of every step, lr_t (steps, k, 1),
        holds Adam's bias correction (1 for the others), a closed form in the step number, so
        a run can go on past the steps it was made for (``descent.Walk``)."""
        c = self.c
        t = np.arange(1, steps + 1)[:, None, None]  # Adam's bias correction; 1 elsewhere (b = 0)
        self.lr_t = self._lr * np.sqrt(1.0 - c["b2"] ** t) / (1.0 - c["b1"] ** t)

    def step(self, i: int, w: np.ndarray, g: np.ndarray) -> None:
        """Update i (0-based) of every run: weights w (k, dim) from their gradients g (k, dim),
        in place. ``used`` names the state the runs need ("v", "m", "u"); skipping the rest is
        exact, since its terms are then 0 (m), 1 (sqrt(0 + 1) for v) or g itself (u)."""
        c, used, mul, add = self._full, self.used, np.multiply, np.add
        v, m, u = self.state["v"], self.state["m"], self.state["u"]
        step, tmp = self._step_buf, self._tmp
        if "v" in used:  # second moment: rmsprop, adagrad, adadelta, adam
            mul(v, c["rho_v"], out=v)
            mul(g, g, out=tmp)
            add(v, mul(c["c_v"], tmp, out=tmp), out=v)  # v = rho v + c_v (g g)
        if "u" in used:  # adadelta: times the rms of past steps, s = sqrt(u + eps) g
            mul(np.sqrt(add(u, c["eps_u"], out=step), out=step), g, out=step)
        else:
            np.copyto(step, g)
        if "m" in used:  # momentum, nesterov, adam's first moment
            mul(m, c["mu"], out=m)
            add(m, mul(c["c_m"], step, out=tmp), out=m)  # m = mu m + c_m s
            mul(c["a_d"], step, out=step)
            add(mul(c["a_m"], m, out=tmp), step, out=step)  # a_m m + a_d s
        if "v" in used:
            add(np.sqrt(add(v, c["eps_in"], out=tmp), out=tmp), c["eps_out"], out=tmp)
            np.divide(step, tmp, out=step)  # / (sqrt(v + eps_in) + eps_out)
        if "u" in used:
            mul(u, c["rho_u"], out=u)
            add(u, mul(c["c_u"], mul(step, step, out=tmp), out=tmp), out=u)
        w -= mul(self.lr_t[i], step, out=step)
