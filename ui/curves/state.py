"""The curves page's settings table and the forward-pass values it marks on the curves.

Settings live in Session State under ``curves_<name>`` (``STATE``); the forward-pass page's
settings are read through its own table (``ui.forward.state.STATE``), never written. The
ten-output section's logits (10,) are an editable table, its numbers from
``nn_core.basics.classification`` in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st

from nn_core.basics.activations import ELEMENTWISE_ACTIVATIONS
from nn_core.basics.losses import BINARY_LOSSES, REGRESSION_LOSSES, loss_value
from nn_core.basics.network import format_keras
from ui.common.format import approx, fixed, plain
from ui.common.i18n import N_, _
from ui.common.lesson import Task
from ui.common.state import (
    Column,
    PageState,
    Setting,
    number_codec,
    range_codec,
    table_codec,
    words_codec,
)
from ui.common.widgets import bump_editor
from ui.forward import state as forward

# Samples per drawn curve: every 0.1 over the default x range (-10, 10), smooth on screen; tables
# and marked points are computed at their own x. 401 sent 107-130 KB a rerun (each point
# carries its hover text), 201 about half (benchmarks/loadtest.py --pages curves).
POINTS = 201
CLASSES = 10  # the digits 0-9: Dense(10, softmax) at the end of lessons 000-001's networks
# Illustrative logits of the last Dense layer for a 4 that looks a little like a 9 (and a 7)
DEFAULT_LOGITS: tuple[float, ...] = (-1.2, 0.4, -0.3, 0.8, 3.1, -0.5, 0.2, 1.1, -0.9, 2.4)
DEFAULT_LABEL = 4
CONFIDENT_LOGIT = 20.0  # "very sure" button: p(label) within 1e-7 of 1, where Keras clips
LOGIT_COLUMNS = ("digit", "logit z")
MAX_VALUE = 1e6  # |target|, |prediction| and |logit| a link may set
VALUE_CODEC = number_codec(-MAX_VALUE, MAX_VALUE)
# The logits travel as logits=-1.2;0.4;...;2.4 (one per digit 0-9).
LOGITS_CODEC = table_codec(
    [Column("logit", float, -MAX_VALUE, MAX_VALUE)], min_rows=CLASSES, max_rows=CLASSES,
    row_sep=";", cell_sep=",",
    dump=lambda table: [(v,) for v in read_logits(table)],
    load=lambda rows: logits_table([r[0] for r in rows]))
STATE = PageState("curves_", [
    Setting("activations", lambda: ["linear", "sigmoid", "relu", "tanh"],  # the lesson's four
            words_codec(ELEMENTWISE_ACTIVATIONS), N_("Activations")),
    # x axis of the curves
    Setting("x_range", (-10.0, 10.0), range_codec(-20.0, 20.0), N_("x range")),
    # y axis of f(x)
    Setting("y_range", (-1.5, 3.0), range_codec(-20.0, 20.0), N_("y range of f(x)")),
    Setting("markers", True, bool, N_("Mark the forward-pass page's neurons")),
    Setting("reg_losses", lambda: ["mse", "mae", "huber", "log_cosh"],
            words_codec(REGRESSION_LOSSES), N_("Regression losses")),
    # starts at the forward page's target
    Setting("reg_target", 0.0, VALUE_CODEC, N_("Regression: target")),
    # predictions drawn
    Setting("reg_range", (-3.0, 3.0), range_codec(-10.0, 10.0),
            N_("Regression: prediction range")),
    # starts at the forward page's Y
    Setting("reg_prediction", 0.0, VALUE_CODEC, N_("Regression: at prediction")),
    Setting("bin_losses", lambda: list(BINARY_LOSSES), words_codec(BINARY_LOSSES),
            N_("Binary losses")),
    Setting("bin_target", 1, number_codec(0, 1, integer=True), N_("Binary: target")),
    Setting("bin_range", (0.0, 1.0), range_codec(-2.0, 3.0), N_("Binary: prediction range")),
    Setting("bin_prediction", 0.8, VALUE_CODEC, N_("Binary: at prediction")),
    Setting("logits", lambda: logits_table(DEFAULT_LOGITS), LOGITS_CODEC, N_("Logits")),
    Setting("label", DEFAULT_LABEL, number_codec(0, CLASSES - 1, integer=True),
            N_("True digit (the label)")),
    # numbers as the Keras code prints them, not at lesson precision
    Setting("exact", False, bool, N_("Exact numbers (as the Keras code prints them)")),
])
P = STATE.prefix


def exact_shown() -> bool:
    """Whether the page's "exact numbers" toggle is on (False outside a session)."""
    return bool(STATE.get("exact", False))


def num32(value: float) -> str:
    """An activation's value at the lesson's precision (1.8263), or with the "exact" toggle on,
    as Keras prints it in float32 (1.8262999)."""
    return writer32()(value)


def num64(value: float) -> str:
    """A loss, probability or gradient at the lesson's precision (0.2137), or with the "exact"
    toggle on, to the 7 decimals the page's float64 Keras code prints (0.2136543)."""
    return writer64()(value)


def writer32(exact: bool | None = None) -> Callable[[float], str]:
    """``num32`` for the toggle ``exact`` (None: as it is now), read once: a figure writes the
    hover texts of hundreds of points (read per point, a quarter of the page's server time)."""
    return format_keras if (exact_shown() if exact is None else exact) else approx


def writer64(exact: bool | None = None) -> Callable[[float], str]:
    """``num64`` for the toggle ``exact`` (None: as it is now), read once (see ``writer32``)."""
    return fixed if (exact_shown() if exact is None else exact) else approx


def logits_table(logits) -> pd.DataFrame:
    """Logits (10,) as the editable table: one row per digit, columns ``LOGIT_COLUMNS``."""
    return pd.DataFrame({LOGIT_COLUMNS[0]: list(range(CLASSES)),
                         LOGIT_COLUMNS[1]: np.asarray(logits, np.float64).reshape(CLASSES)})


def read_logits(table) -> np.ndarray:
    """The edited table -> logits (10,) float64; ValueError naming the digit whose cell is bad."""
    if not isinstance(table, pd.DataFrame) or LOGIT_COLUMNS[1] not in table.columns \
            or len(table) != CLASSES:
        raise ValueError(_("The logits table must have one logit per digit 0-9: reset it."))
    column = table[LOGIT_COLUMNS[1]]
    numbers = pd.to_numeric(column, errors="coerce").to_numpy(np.float64, copy=True,
                                                              na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(numbers))
    if bad.size:
        cell = column.iloc[int(bad[0])]
        what = _("is empty") if cell is None or (isinstance(cell, float) and np.isnan(cell)) \
            else _("holds {value}").format(value=plain(repr(cell), 30))
        raise ValueError(_("The logit of digit {digit} {what}: every logit must be a finite "
                           "number.").format(digit=int(bad[0]), what=what))
    return numbers


def on_logits_reset() -> None:
    """Button: the illustrative logits and label again."""
    STATE["logits"] = logits_table(DEFAULT_LOGITS)
    STATE["label"] = DEFAULT_LABEL
    bump_editor(STATE.key("logits"))


def on_confident() -> None:
    """Button: the true digit's logit far above the others, so p rounds to 1 and Keras clips."""
    try:
        logits = read_logits(STATE["logits"])
    except ValueError:
        logits = np.array(DEFAULT_LOGITS)
    logits[int(STATE["label"])] = CONFIDENT_LOGIT
    STATE["logits"] = logits_table(logits)
    bump_editor(STATE.key("logits"))


def softmax_script(logits: np.ndarray, label: int) -> str:
    """A runnable Keras script printing the section's numbers for logits (10,) and ``label``:
    the probabilities, the three losses from the probabilities as numbers, and from the
    logits. float64; with its "exact" toggle on, the page shows the same numbers to 7
    decimals."""
    z = ", ".join(repr(float(v)) for v in np.asarray(logits, np.float64))
    matches = _("float64, so every digit matches the page")
    about_z = _("(1, 10): the last Dense layer's outputs before softmax")
    about_y, about_p = _("(1, 10) one-hot target"), _("(1, 10) probabilities")
    numbers = _("As numbers: a tensor straight from softmax would make Keras read the logits "
                "behind it.")
    return f"""import numpy as np
import keras

keras.config.set_floatx("float64")  # {matches}
z = np.array([[{z}]])  # {about_z}
label = {int(label)}
y = np.eye(10)[[label]]  # {about_y}
# {numbers}
p = np.asarray(keras.activations.softmax(z))  # {about_p}
print("p =", np.round(p[0], 7).tolist())
print("p - onehot =", np.round(p[0] - y[0], 7).tolist())
for name, target in (("categorical_crossentropy", y), ("sparse_categorical_crossentropy",
                     np.array([label])), ("kl_divergence", y)):
    print(name, "=", float(keras.losses.get(name)(target, p)[0]))
from_logits = keras.losses.categorical_crossentropy(y, z, from_logits=True)
print("from the logits =", float(from_logits[0]))
"""


def forward_values() -> tuple[dict[str, float], str, str, float, float]:
    """The forward page's pre-activation values (N1, N2, Y), its activations, target and Y.

    Read from the session when the forward page was visited, else its defaults; ValueError
    when its settings cannot be computed.
    """
    settings = {name: st.session_state.get(forward.STATE.key(name), s.fresh_default())
                for name, s in forward.STATE.settings.items()}
    f = forward.network(settings).forward()
    return ({"N1": f.n1_in, "N2": f.n2_in, "Y": f.y_in}, settings["hidden"], settings["output"],
            float(settings["target"]), f.y)


# ---------------------------------------------------------------------------------------------
# Tasks a lesson link can set (ui.common.lesson)
# ---------------------------------------------------------------------------------------------
def _mse_equals_mae(v: dict) -> tuple[bool, str]:
    """values: reg_target, reg_prediction."""
    t, y = float(v["reg_target"]), float(v["reg_prediction"])
    mse, mae = (loss_value(name, [[t]], [[y]]) for name in ("mse", "mae"))
    text = _("At prediction {y} (target {t}): mse = {mse}, mae = {mae}.").format(
        y=approx(y), t=approx(t), mse=approx(mse), mae=approx(mae))
    return abs(y - t) > 1e-6 and abs(mse - mae) <= 1e-3 * max(1.0, mae), text


def _confident(v: dict) -> tuple[bool, str]:
    """values: probabilities (10,), label."""
    p = float(v["probabilities"][int(v["label"])])
    text = _("The network gives the true digit {label} a probability of {p}.").format(
        label=int(v["label"]), p=approx(p))
    return p > 0.9, text


TASKS = (
    Task("mse_mae", N_("Move the prediction (not onto the target) to where mse and mae give "
                       "the same loss."), _mse_equals_mae),
    Task("confident", N_("Edit the logits so that the true digit gets a probability above "
                         "0.9."), _confident),
)
