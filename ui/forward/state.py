"""The forward-pass page's settings table, its callbacks, and the network they describe.

Every setting lives in Session State under ``fwd_<name>`` (``STATE``, declared once below; the
weights, inputs, activations, loss and learning rate travel in the URL). Every number comes
from ``nn_core.basics.network`` in DTYPE, as Keras computes by default.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nn_core import course
from nn_core.basics.activations import ELEMENTWISE_ACTIVATIONS
from nn_core.basics.losses import ONE_OUTPUT_LOSSES
from nn_core.basics.network import WEIGHT_NAMES, ForwardResult, Network, format_keras
from ui.common.format import approx, short
from ui.common.i18n import N_, _
from ui.common.lesson import Task
from ui.common.state import PageState, Setting, number_codec

DTYPE = "float32"  # Keras's default floatx: the page computes and prints as Keras
WEIGHT_RANGE: tuple[float, float] = (-2.0, 2.0)  # slider range of each weight
INPUT_RANGE: tuple[float, float] = (-10.0, 10.0)  # slider range of each input and the target
NETWORK_SETTINGS: tuple[str, ...] = (*WEIGHT_NAMES, "x1", "x2", "target", "hidden", "output",
                                     "loss")
STATE = PageState("fwd_", [
    *(Setting(name, value, float)
      for name, value in zip(WEIGHT_NAMES, course.FORWARD_WEIGHTS, strict=True)),
    Setting("x1", course.FORWARD_INPUTS[0], float),
    Setting("x2", course.FORWARD_INPUTS[1], float),
    Setting("target", course.FORWARD_TARGET, float, N_("Target")),
    Setting("hidden", course.FORWARD_HIDDEN_ACTIVATION, ELEMENTWISE_ACTIVATIONS,
            N_("Hidden activation")),
    Setting("output", course.FORWARD_OUTPUT_ACTIVATION, ELEMENTWISE_ACTIVATIONS,
            N_("Output activation")),
    Setting("loss", course.FORWARD_LOSS, ONE_OUTPUT_LOSSES, N_("Loss function")),
    Setting("lr", course.FORWARD_LEARNING_RATE, number_codec(0.0, 1e6), N_("Learning rate lr")),
    # numbers as Keras prints them, not at lesson precision
    Setting("exact", False, bool, N_("Exact numbers (as Keras prints float32)")),
    Setting("history", list),  # losses since the first step of these settings
    Setting("history_of", None),  # the settings the history belongs to
    Setting("last_step", None),  # {"before", "after", "lr"} of the last step
    Setting("step_error", None),  # why the last step could not be taken
])
P = STATE.prefix


def num(value: float) -> str:
    """A number at the lesson's precision (2.154, 1.8263), or with the page's "exact" toggle
    on, as Keras/NumPy print it in DTYPE (shortest digits that round-trip: 2.1539998)."""
    return format_keras(value, DTYPE) if exact_shown() else approx(value)


def exact(value: float) -> str:
    """A number as Keras prints it in DTYPE, whatever the toggle says (tooltips)."""
    return format_keras(value, DTYPE)


def exact_shown() -> bool:
    """Whether the page's "exact (as Keras prints)" toggle is on (False outside a session)."""
    return bool(STATE.get("exact", False))


def loss_after(net: Network, stepped: np.ndarray) -> float:
    """The loss with the weights (6,) of one step; inf when the step overflowed them."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            return float(net.with_weights(np.asarray(stepped).tolist()).loss_and_gradients()[0])
    except (ValueError, FloatingPointError):
        return float("inf")


def _near_target(v: dict[str, Any]) -> tuple[bool, str]:
    gap = abs(v["y"] - v["target"])
    text = _("Y = {y}, the target {target}: {gap} apart.").format(
        y=approx(v["y"]), target=approx(v["target"]), gap=approx(gap))
    return gap <= 0.01, text


def _overshoot(v: dict[str, Any]) -> tuple[bool, str]:
    text = _("With lr {lr} one step takes the loss from {before} to {after}.").format(
        lr=short(v["lr"]), before=approx(v["loss"]), after=approx(v["loss_after"]))
    return bool(v["loss_after"] > v["loss"]), text


# Tasks a lesson link can set (ui.common.lesson); their checks read the page's numbers.
TASKS = (
    Task("target", N_("Change w5 and w6 until the output Y is within 0.01 of the target."),
         _near_target),
    Task("overshoot", N_("Find a learning rate at which one training step makes the loss "
                         "larger instead of smaller."), _overshoot),
)


def rounded(values: list[float]) -> list[float]:
    """The values as Keras stores them in DTYPE (it casts weights and inputs so)."""
    return np.asarray(values, dtype=np.float64).astype(DTYPE).astype(np.float64).tolist()


def current() -> dict[str, Any]:
    """The page's network settings and learning rate, without the prefix."""
    return STATE.values((*NETWORK_SETTINGS, "lr"))


def weights_of(s: dict[str, Any]) -> list[float]:
    """w1..w6 (6,) from the settings."""
    return [float(s[name]) for name in WEIGHT_NAMES]


def network(s: dict[str, Any], dtype: str = DTYPE) -> Network:
    """The 2-2-1 network these settings describe (ValueError if they cannot be computed)."""
    return Network(weights_of(s), [s["x1"], s["x2"]], float(s["target"]), s["hidden"],
                   s["output"], s["loss"], dtype)


def check_finite(f: ForwardResult, loss: float, grads: np.ndarray) -> None:
    """ValueError naming the first neuron, the loss or a gradient that overflowed DTYPE (e.g.
    an exponential output of a large sum): the page says so instead of drawing infinities."""
    named = {"N1": f.n1, "N2": f.n2, "Y": f.y, _("the loss"): loss,
             **{f"∂L/∂{w}": float(g) for w, g in zip(WEIGHT_NAMES, grads, strict=True)}}
    for name, value in named.items():
        if not np.isfinite(value):
            raise ValueError(_("{name} overflows {dtype} ({value}): use smaller weights or "
                               "inputs, or another activation").format(
                name=name, dtype=DTYPE, value=value))


def signature(s: dict[str, Any]) -> tuple:
    """What the training history depends on (not the learning rate)."""
    return tuple(s[k] for k in NETWORK_SETTINGS)


def on_train_step() -> None:
    """Button callback: one step w <- w - lr * dL/dw, with the loss before and after."""
    s = current()
    STATE["step_error"] = None
    try:
        net = network(s)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
            before, _grads = net.loss_and_gradients()
            new = net.training_step(float(s["lr"]))
            finite = bool(np.all(np.isfinite(new)))
            after = net.with_weights(new.tolist()).loss_and_gradients()[0] if finite else np.inf
    except (ValueError, FloatingPointError) as exc:
        STATE["step_error"] = _("The step could not be taken: {reason}").format(reason=exc)
        return
    if not (finite and np.isfinite(after)):
        STATE["step_error"] = _(
            "With learning rate {lr} the step overflows (the weights would become infinite): "
            "lower the learning rate."
        ).format(lr=short(s["lr"]))
        return
    history = STATE["history"]
    if not history or STATE["history_of"] != signature(s):
        history = [before]
    for name, value in zip(WEIGHT_NAMES, new, strict=True):
        STATE[name] = float(value)
    STATE["history"] = [*history, after]
    STATE["history_of"] = signature(current())
    STATE["last_step"] = {"before": before, "after": after, "lr": float(s["lr"])}


def on_reset() -> None:
    """Button callback: back to the lesson's worked example (the exact-numbers toggle, a way
    of reading them, stays as it is)."""
    STATE.reset(exact=STATE["exact"])
