"""ui.widgets: settings survive reruns and runs that do not draw their widgets (page switches)."""

from __future__ import annotations

import math

from streamlit.testing.v1 import AppTest

from ui import widgets


def test_choices_are_sanitized() -> None:
    assert widgets.sanitize_choice("relu", ("linear", "relu")) == "relu"
    assert widgets.sanitize_choice("nope", ("linear", "relu")) == "linear"
    assert widgets.sanitize_choice("nope", ()) is None
    assert widgets.sanitize_choices(["tanh", "x", "relu"], ("relu", "tanh")) == ["tanh", "relu"]


def test_clip() -> None:
    assert widgets.clip(7.5, -2, 2) == 2.0
    assert widgets.clip(-7.5, -2, 2) == -2.0
    assert widgets.clip(0.4213, -2, 2) == 0.4213


def test_query_params_round_trip_exactly() -> None:
    values = {"w1": 0.1 + 0.2, "x1": -5.8, "hidden": "relu", "steps": 3}
    encoded = widgets.encode_params(values)
    assert encoded == {"w1": "0.30000000000000004", "x1": "-5.8", "hidden": "relu",
                       "steps": "3.0"}
    spec = {"w1": float, "x1": float, "hidden": ("linear", "relu")}
    decoded, problems = widgets.decode_params(encoded, spec)
    assert decoded == {"w1": 0.1 + 0.2, "x1": -5.8, "hidden": "relu"} and problems == []


def test_bad_query_params_are_reported_not_applied() -> None:
    spec = {"w1": float, "w2": float, "w3": float, "hidden": ("linear", "relu")}
    decoded, problems = widgets.decode_params(
        {"w1": "abc", "w2": "inf", "w3": ["1", "2"], "hidden": "softmax", "other": "x"}, spec)
    assert decoded == {"w3": 2.0}  # a repeated parameter: the last one wins, as st.query_params
    assert len(problems) == 3
    assert any("w1='abc'" in p for p in problems) and any("softmax" in p for p in problems)


def _app() -> None:
    """A page that can hide its widgets, as a switch to another page does."""
    import pandas as pd
    import streamlit as st

    from ui import widgets

    widgets.init_state({"t_value": 0.5, "t_kind": "relu",
                        "t_table": pd.DataFrame({"a": [1.0, 2.0]})})
    if st.session_state.get("hide"):
        st.write("another page")
    else:
        value = widgets.slider_number("weight", "t_value", -2.0, 2.0, 0.01)
        kind = widgets.persistent(st.selectbox, "kind", "t_kind", options=["linear", "relu"])
        table = widgets.persistent_editor("t_table", num_rows="dynamic")
        st.write(f"value={value!r} kind={kind} sum={float(table['a'].sum())!r}")
    st.button("reset", key="reset", on_click=widgets.reset_state, args=(
        {"t_value": 0.5, "t_kind": "relu", "t_table": pd.DataFrame({"a": [1.0, 2.0]})},))


def _shown(at: AppTest) -> str:
    return at.markdown[0].value


def test_slider_and_number_stay_in_sync_and_survive_hidden_runs() -> None:
    at = AppTest.from_function(_app).run()
    assert _shown(at) == "value=0.5 kind=relu sum=3.0"
    at.number_input(key="t_value__number").set_value(0.4213456).run()
    assert _shown(at).startswith("value=0.4213456 ")
    assert at.slider(key="t_value__slider").value == 0.4213456
    at.slider(key="t_value__slider").set_value(-1.25).run()
    assert at.number_input(key="t_value__number").value == -1.25
    at.number_input(key="t_value__number").set_value(7.5).run()  # beyond the slider's range
    assert at.slider(key="t_value__slider").value == 2.0 and _shown(at).startswith("value=7.5 ")
    at.selectbox(key="t_kind__w").set_value("linear").run()
    at.session_state["hide"] = True
    at.run()
    at.run()  # a second run without the widgets: Streamlit has dropped their own state
    assert "t_value__number" not in at.session_state
    at.session_state["hide"] = False
    at.run()
    assert _shown(at) == "value=7.5 kind=linear sum=3.0"
    assert at.number_input(key="t_value__number").value == 7.5
    assert not at.exception


def test_editor_edits_survive_hidden_runs_and_reset() -> None:
    at = AppTest.from_function(_app).run()
    at.session_state["t_table__editor0"] = {
        "edited_rows": {0: {"a": 10.0}}, "added_rows": [{"a": 5.0}], "deleted_rows": []}
    at.run()
    assert _shown(at).endswith("sum=17.0")
    at.run()  # edits are not applied twice
    assert _shown(at).endswith("sum=17.0")
    at.session_state["hide"] = True
    at.run()
    at.run()
    at.session_state["hide"] = False
    at.run()
    assert _shown(at).endswith("sum=17.0")
    at.button(key="reset").click().run()
    assert _shown(at) == "value=0.5 kind=relu sum=3.0"
    assert not at.exception and math.isfinite(at.session_state["t_value"])
