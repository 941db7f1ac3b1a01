"""Widgets bound to settings: values survive reruns and runs that do not draw them."""

from __future__ import annotations

import math

from streamlit.testing.v1 import AppTest

from ui.common import widgets


def test_choices_are_sanitized() -> None:
    assert widgets.sanitize_choice("relu", ("linear", "relu")) == "relu"
    assert widgets.sanitize_choice("nope", ("linear", "relu")) == "linear"
    assert widgets.sanitize_choice("nope", ()) is None
    assert widgets.sanitize_choices(["tanh", "x", "relu"], ("relu", "tanh")) == ["tanh", "relu"]


def test_clip() -> None:
    assert widgets.clip(7.5, -2, 2) == 2.0
    assert widgets.clip(-7.5, -2, 2) == -2.0
    assert widgets.clip(0.4213, -2, 2) == 0.4213


def _app() -> None:
    """A page that can hide its widgets, as a switch to another page does."""
    import pandas as pd
    import streamlit as st

    from ui.common import widgets
    from ui.common.state import PageState, Setting

    state = PageState("t_", [Setting("value", 0.5, float), Setting("kind", "relu"),
                             Setting("table", lambda: pd.DataFrame({"a": [1.0, 2.0]}))])
    state.init()
    if st.session_state.get("hide"):
        st.write("another page")
    else:
        value = widgets.slider_number("weight", "t_value", -2.0, 2.0, 0.01)
        kind = widgets.persistent(st.selectbox, "kind", "t_kind", options=["linear", "relu"])
        table = widgets.persistent_editor("t_table", num_rows="dynamic")
        st.write(f"value={value!r} kind={kind} sum={float(table['a'].sum())!r}")
    st.button("reset", key="reset", on_click=state.reset)


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


def test_an_unchanged_table_keeps_its_object_across_runs_and_an_edit_replaces_it() -> None:
    at = AppTest.from_function(_app).run()
    at.run()
    first = at.session_state["t_table"]
    at.run()
    assert at.session_state["t_table"] is first  # the same table: the same object
    at.session_state["t_table__editor0"] = {
        "edited_rows": {0: {"a": 10.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    edited = at.session_state["t_table"]
    assert edited is not first and _shown(at).endswith("sum=12.0")
    at.run()
    assert at.session_state["t_table"] is edited
