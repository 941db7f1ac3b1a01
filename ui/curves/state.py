"""The curves page's settings table and the forward-pass values it marks on the curves.

Settings live in Session State under ``curves_<name>`` (``STATE``); the forward-pass page's
settings are read through its own table (``ui.forward.state.STATE``), never written. The
ten-output section's logits (10,) are an editable table, its numbers from
``nn_core.basics.classification`` in float64.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from nn_core.basics.losses import BINARY_LOSSES
from ui.common.format import plain
from ui.common.state import PageState, Setting
from ui.common.widgets import bump_editor
from ui.forward import state as forward

POINTS = 401  # samples per curve
CLASSES = 10  # the digits 0-9: Dense(10, softmax) at the end of lessons 000-001's networks
# Illustrative logits of the last Dense layer for a 4 that looks a little like a 9 (and a 7)
DEFAULT_LOGITS: tuple[float, ...] = (-1.2, 0.4, -0.3, 0.8, 3.1, -0.5, 0.2, 1.1, -0.9, 2.4)
DEFAULT_LABEL = 4
CONFIDENT_LOGIT = 20.0  # "very sure" button: p(label) within 1e-7 of 1, where Keras clips
LOGIT_COLUMNS = ("digit", "logit z")
STATE = PageState("curves_", [
    Setting("activations", lambda: ["linear", "sigmoid", "relu", "tanh"]),  # the lesson's four
    Setting("x_range", (-10.0, 10.0)),  # x axis of the activation curves
    Setting("y_range", (-1.5, 3.0)),  # y axis of f(x)
    Setting("markers", True, bool),
    Setting("reg_losses", lambda: ["mse", "mae", "huber", "log_cosh"]),
    Setting("reg_target", 0.0, float),  # starts at the forward page's target
    Setting("reg_range", (-3.0, 3.0)),  # predictions drawn
    Setting("reg_prediction", 0.0, float),  # starts at the forward page's Y
    Setting("bin_losses", lambda: list(BINARY_LOSSES)),
    Setting("bin_target", 1, int),
    Setting("bin_range", (0.0, 1.0)),
    Setting("bin_prediction", 0.8, float),
    Setting("logits", lambda: logits_table(DEFAULT_LOGITS)),
    Setting("label", DEFAULT_LABEL),
])
P = STATE.prefix


def logits_table(logits) -> pd.DataFrame:
    """Logits (10,) as the editable table: one row per digit, columns ``LOGIT_COLUMNS``."""
    return pd.DataFrame({LOGIT_COLUMNS[0]: list(range(CLASSES)),
                         LOGIT_COLUMNS[1]: np.asarray(logits, np.float64).reshape(CLASSES)})


def read_logits(table) -> np.ndarray:
    """The edited table -> logits (10,) float64; ValueError naming the digit whose cell is bad."""
    if not isinstance(table, pd.DataFrame) or LOGIT_COLUMNS[1] not in table.columns \
            or len(table) != CLASSES:
        raise ValueError("The logits table must have one logit per digit 0-9: reset it.")
    column = table[LOGIT_COLUMNS[1]]
    numbers = pd.to_numeric(column, errors="coerce").to_numpy(np.float64, copy=True,
                                                              na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(numbers))
    if bad.size:
        cell = column.iloc[int(bad[0])]
        what = "is empty" if cell is None or (isinstance(cell, float) and np.isnan(cell)) \
            else f"holds {plain(repr(cell), 30)}"
        raise ValueError(f"The logit of digit {int(bad[0])} {what}: every logit must be a "
                         "finite number.")
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
    logits. float64; the page shows the same numbers to 7 decimals."""
    z = ", ".join(repr(float(v)) for v in np.asarray(logits, np.float64))
    return f"""import numpy as np
import keras

keras.config.set_floatx("float64")  # float64, so every digit matches the page
z = np.array([[{z}]])  # (1, 10): the last Dense layer's outputs before softmax
label = {int(label)}
y = np.eye(10)[[label]]  # (1, 10) one-hot target
# As numbers: a tensor straight from softmax would make Keras read the logits behind it.
p = np.asarray(keras.activations.softmax(z))  # (1, 10) probabilities
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
