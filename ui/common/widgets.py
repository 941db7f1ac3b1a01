"""Widgets whose values live in Session State under page-prefixed keys (``fwd_w1``, ``gd_loss``).

The one persistence helper of every page: the keys are those of the page's settings table
(``ui.common.state.PageState``).

Streamlit forgets a widget's state as soon as a run does not draw it (a page switch), so every
value is kept under a plain key and copied into the widget's own key before each draw; the
widget's ``on_change`` copies it back. A setting therefore survives reruns and page switches,
and buttons change settings by writing the plain key in their callback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from ui.common.i18n import _
from ui.common.state import is_hidden, is_locked

WIDGET = "__w"  # suffix of a widget's own key, next to the plain key holding the value


def fixed_note() -> str:
    """The tooltip of a control a lesson link locked."""
    return _("Fixed by your teacher for this lesson.")


def _lesson_kwargs(key: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the control drawn disabled, and saying why, when a lesson link locked
    the setting under ``key``."""
    if not is_locked(key):
        return kwargs
    return {**kwargs, "disabled": True, "help": fixed_note()}


def _copy_back(widget_key: str, key: str, then: Callable[[], Any] | None = None) -> None:
    """on_change: the value the user chose becomes the setting; then the page's callback."""
    st.session_state[key] = st.session_state[widget_key]
    if then is not None:
        then()


def _sync(widget_key: str, value: Any) -> None:
    """Give the widget under ``widget_key`` the setting's value, unless it already shows it:
    a value set through Session State is sent to the browser again on every run (py-spy
    under benchmarks/loadtest.py: /forward's nine slider-and-number pairs)."""
    state = st.session_state
    if widget_key in state:
        shown = state[widget_key]
        if type(shown) is type(value) and shown == value:
            return
    state[widget_key] = value


def sanitize_choice(value: Any, options: Sequence[Any]) -> Any:
    """A stored choice still among ``options``, else the first option (None if there is none)."""
    return value if value in options else (options[0] if options else None)


def sanitize_choices(values: Sequence[Any], options: Sequence[Any]) -> list[Any]:
    """The stored multi-choice restricted to ``options``, order kept."""
    return [v for v in values if v in options]


_MISSING = object()


def persistent(widget: Callable[..., Any], label: str, key: str, default: Any = _MISSING,
               in_form: bool = False, **kwargs: Any) -> Any:
    """Draw ``widget(label, ...)`` bound to the plain key ``key``; returns the current value.

    ``default`` is for keys no settings table declares (the digit page's training form has
    one set of keys per network); declared settings are initialised by ``PageState.init``.
    ``in_form``: the widget sits inside ``st.form``, where only the submit button may have a
    callback, so its value is copied back after it is drawn.

    A lesson link (``ui.common.state``) may lock the setting (the widget is drawn disabled,
    with a note) or hide it (nothing is drawn; the value from the link still counts).
    """
    if default is not _MISSING:
        st.session_state.setdefault(key, default)
    if is_hidden(key):
        return st.session_state[key]
    kwargs = _lesson_kwargs(key, kwargs)
    options = kwargs.get("options")
    if options is not None:
        options = list(options)
        if widget in (st.multiselect, st.pills) and kwargs.get("selection_mode") != "single":
            st.session_state[key] = sanitize_choices(st.session_state[key], options)
        else:
            st.session_state[key] = sanitize_choice(st.session_state[key], options)
    widget_key = key + WIDGET
    if in_form:  # no callbacks in a form: the widget's own state is the newest value
        st.session_state.setdefault(widget_key, st.session_state[key])
        st.session_state[key] = widget(label, key=widget_key, **kwargs)
        return st.session_state[key]
    _sync(widget_key, st.session_state[key])
    then = kwargs.pop("on_change", None)  # the page's own callback runs after the copy-back
    widget(label, key=widget_key, on_change=_copy_back, args=(widget_key, key, then), **kwargs)
    return st.session_state[key]


def fragment_run() -> bool:
    """Whether this script run reruns st.fragment parts only (a stroke on the digit page), not
    the whole page (Streamlit's run context; False outside a Streamlit run)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def lazy_expander(label: str, key: str, **kwargs: Any) -> Any:
    """``st.expander`` that reruns when it is opened or closed; its ``.open`` says whether to
    build what is inside. A page fills it only while it is open, so the sections a student
    has not opened (the Keras code, the parameter tables) cost the server nothing on every move
    of a slider: on /forward they were a fifth of a rerun's CPU (py-spy under
    benchmarks/loadtest.py). ``key`` keeps it open across reruns."""
    return st.expander(label, key=key, on_change="rerun", **kwargs)


def clip(value: float, low: float, high: float) -> float:
    """``value`` clamped into [low, high] (a slider can only show values in its range)."""
    return float(min(max(value, low), high))


NUMBER_WIDTH = 104  # px: "-0.123456" and the +/- buttons, beside a slider that takes the rest


def slider_number(
    label: str,
    key: str,
    low: float,
    high: float,
    step: float,
    *,
    number_format: str = "%.6g",
    help: str | None = None,
) -> float:
    """A slider over [low, high] and an exact number entry side by side, kept in sync."""
    value = float(st.session_state[key])
    if is_hidden(key):
        return value
    locked = {"disabled": True} if is_locked(key) else {}
    if locked:
        help = fixed_note()
    slider_key, number_key = key + "__slider", key + "__number"
    _sync(slider_key, clip(value, low, high))
    _sync(number_key, value)
    # one horizontal container, not st.columns (a row and two column blocks): two messages
    # fewer per pair on every run (/forward sent 99 messages a move, 27 of them these blocks)
    row = st.container(horizontal=True, wrap=False, vertical_alignment="bottom", gap="small")
    # value= repeats what the key holds: without it st.slider copies the whole Session State
    # (filtered_state) to guess whether it is a range, on every run of every slider
    row.slider(label, min_value=float(low), max_value=float(high), step=float(step),
               value=st.session_state[slider_key], key=slider_key, on_change=_copy_back,
               args=(slider_key, key), help=help, **locked)
    row.number_input(_("{label} (exact)").format(label=label), step=float(step),
                     format=number_format, width=NUMBER_WIDTH,
                     key=number_key, on_change=_copy_back, args=(number_key, key),
                     label_visibility="collapsed", **locked)
    return value


def editor_key(key: str) -> str:
    """The data editor's widget key for the table stored under ``key`` (changes on reset)."""
    return f"{key}__editor{st.session_state.get(key + '__version', 0)}"


def bump_editor(key: str) -> None:
    """Make the next draw of the editor for ``key`` start fresh from the stored table."""
    if key + "__version" in st.session_state:
        st.session_state[key + "__version"] += 1


def persistent_editor(key: str, **kwargs: Any) -> pd.DataFrame:
    """``st.data_editor`` of the table stored under ``key``; edits survive page switches.

    An editor's state is a list of edits relative to the table it was first drawn with, so
    that table is kept as the base while the editor lives; a fresh editor (first visit, after
    a page switch or a reset) starts from the latest edited table.
    """
    if is_hidden(key):
        return st.session_state[key]
    if is_locked(key):
        kwargs = {**kwargs, "disabled": True}
        st.caption(fixed_note())
    st.session_state.setdefault(key + "__version", 0)
    widget_key = editor_key(key)
    base_key = key + "__base"
    if widget_key not in st.session_state or base_key not in st.session_state:
        st.session_state[base_key] = st.session_state[key]
    edited = st.data_editor(st.session_state[base_key], key=widget_key, **kwargs)
    previous = st.session_state.get(key)
    if isinstance(previous, pd.DataFrame) and isinstance(edited, pd.DataFrame) \
            and previous.equals(edited):
        # The editor returns a new frame on every run: an unchanged table keeps its object,
        # so what the page worked out from it, by identity (its link text, say), still holds.
        return previous
    st.session_state[key] = edited
    return edited
