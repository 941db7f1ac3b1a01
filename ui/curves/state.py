"""The curves page's settings table and the forward-pass values it marks on the curves.

Settings live in Session State under ``curves_<name>`` (``STATE``); the forward-pass page's
settings are read through its own table (``ui.forward.state.STATE``), never written.
"""

from __future__ import annotations

import streamlit as st

from nn_core.basics.losses import BINARY_LOSSES
from ui.common.state import PageState, Setting
from ui.forward import state as forward

POINTS = 401  # samples per curve
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
])
P = STATE.prefix


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
