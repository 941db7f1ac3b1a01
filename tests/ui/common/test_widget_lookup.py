"""ui.common.widget_lookup: the input widgets' one-key view of Session State answers exactly as
Streamlit's ``filtered_state`` dict does, on the app's real Session State."""

from __future__ import annotations

import importlib

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from tests.support import ROOT
from ui.common import widget_lookup
from ui.common.widget_lookup import UserKeyView

APP = str(ROOT / "app.py")


def test_the_pinned_streamlit_is_the_one_read_and_its_four_widget_modules_are_patched() -> None:
    assert streamlit.__version__ == widget_lookup.STREAMLIT_VERSION
    assert widget_lookup.install() == widget_lookup.WIDGET_MODULES
    for name in widget_lookup.WIDGET_MODULES:
        module = importlib.import_module(f"streamlit.elements.widgets.{name}")
        assert module.get_session_state is widget_lookup._one_key_session_state


def test_a_module_that_uses_the_dict_otherwise_is_left_alone() -> None:
    slider = importlib.import_module("streamlit.elements.widgets.slider")
    time_widgets = importlib.import_module("streamlit.elements.widgets.time_widgets")
    assert not widget_lookup.patchable(slider) and not widget_lookup.patchable(time_widgets)
    assert slider.get_session_state is not widget_lookup._one_key_session_state


def assert_same_answers(at: AppTest) -> int:
    """For every key Session State knows (raw and as users see them) and a few it does not:
    ``in`` and ``[]`` of the view equal those of ``filtered_state``; how many keys it checked."""
    safe = at.session_state._state
    real = safe.filtered_state
    view = UserKeyView(safe)
    keys = set(safe._state._keys()) | set(real) | {"absent", "", "$$ID-x-y", "None"}
    keys |= {k + "__w" for k in real} | {"$$STREAMLIT_INTERNAL_KEY_TESTING"}
    for key in keys:
        assert (key in view) == (key in real), key
        if key in real:
            assert view[key] is real[key] or view[key] == real[key], key
        else:
            with pytest.raises(KeyError):
                view[key]
    assert dict(view) == real and len(view) == len(real)
    return len(keys)


def test_the_view_answers_as_the_dict_on_the_apps_pages() -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert_same_answers(at)
    at.switch_page("lessons/forward_pass.py").run()
    at.number_input(key="fwd_w5__number").set_value(1.25).run()
    at.selectbox(key="fwd_hidden__w").set_value("tanh").run()
    assert_same_answers(at)
    for page in ("lessons/gradient_descent.py", "lessons/curves.py", "lessons/draw_digit.py",
                 "lessons/forward_pass.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        assert assert_same_answers(at) > 40
    assert at.number_input(key="fwd_w5__number").value == 1.25  # survived the tour


SCRIPT = '''
import streamlit as st
from ui.common import widget_lookup

widget_lookup.install()
st.session_state.setdefault("empty", None)
st.session_state.setdefault("preset", 3)
st.session_state.setdefault("choice", None)
st.number_input("empty", key="empty", value=5)
st.number_input("preset", key="preset", value=5)
st.number_input("keyless", value=7)
st.selectbox("choice", ["a", "b"], key="choice")
st.radio("radio", ["x", "y"], key="radio")
'''


def test_widgets_still_see_a_key_that_holds_none() -> None:
    at = AppTest.from_string(SCRIPT, default_timeout=30)
    at.run()
    assert not at.exception
    assert at.number_input(key="empty").value is None  # empty, not the default 5
    assert at.number_input(key="preset").value == 3
    assert at.number_input[2].value == 7
    assert at.selectbox(key="choice").value is None and at.radio(key="radio").value == "x"
    at.number_input(key="empty").set_value(2).run()
    assert at.number_input(key="empty").value == 2 and at.session_state["empty"] == 2
