"""Widgets whose values live in Session State under page-prefixed keys (``fwd_w1``, ``gd_loss``).

Streamlit forgets a widget's state as soon as a run does not draw it (a page switch), so every
value is kept under a plain key and copied into the widget's own key before each draw; the
widget's ``on_change`` copies it back. A setting therefore survives reruns and page switches,
and buttons change settings by writing the plain key in their callback.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

WIDGET = "__w"  # suffix of a widget's own key, next to the plain key holding the value


def init_state(defaults: Mapping[str, Any]) -> bool:
    """Set each key that is not in Session State yet; True on the session's first visit."""
    first = False
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = copy.deepcopy(value)
            first = True
    return first


def reset_state(defaults: Mapping[str, Any]) -> None:
    """Put every key back to its default (use as a button's on_click)."""
    for key, value in defaults.items():
        st.session_state[key] = copy.deepcopy(value)
        bump_editor(key)


def _copy_back(widget_key: str, key: str) -> None:
    """on_change: the value the user chose becomes the setting."""
    st.session_state[key] = st.session_state[widget_key]


def sanitize_choice(value: Any, options: Sequence[Any]) -> Any:
    """A stored choice still among ``options``, else the first option (None if there is none)."""
    return value if value in options else (options[0] if options else None)


def sanitize_choices(values: Sequence[Any], options: Sequence[Any]) -> list[Any]:
    """The stored multi-choice restricted to ``options``, order kept."""
    return [v for v in values if v in options]


def persistent(widget: Callable[..., Any], label: str, key: str, **kwargs: Any) -> Any:
    """Draw ``widget(label, ...)`` bound to the plain key ``key``; returns the current value."""
    options = kwargs.get("options")
    if options is not None:
        options = list(options)
        if widget in (st.multiselect, st.pills) and kwargs.get("selection_mode") != "single":
            st.session_state[key] = sanitize_choices(st.session_state[key], options)
        else:
            st.session_state[key] = sanitize_choice(st.session_state[key], options)
    widget_key = key + WIDGET
    st.session_state[widget_key] = st.session_state[key]
    widget(label, key=widget_key, on_change=_copy_back, args=(widget_key, key), **kwargs)
    return st.session_state[key]


def clip(value: float, low: float, high: float) -> float:
    """``value`` clamped into [low, high] (a slider can only show values in its range)."""
    return float(min(max(value, low), high))


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
    slider_key, number_key = key + "__slider", key + "__number"
    st.session_state[slider_key] = clip(value, low, high)
    st.session_state[number_key] = value
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    left.slider(label, min_value=float(low), max_value=float(high), step=float(step),
                key=slider_key, on_change=_copy_back, args=(slider_key, key), help=help)
    right.number_input(f"{label} (exact)", step=float(step), format=number_format,
                       key=number_key, on_change=_copy_back, args=(number_key, key),
                       label_visibility="collapsed")
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
    st.session_state.setdefault(key + "__version", 0)
    widget_key = editor_key(key)
    base_key = key + "__base"
    if widget_key not in st.session_state or base_key not in st.session_state:
        st.session_state[base_key] = st.session_state[key]
    edited = st.data_editor(st.session_state[base_key], key=widget_key, **kwargs)
    st.session_state[key] = edited
    return edited


# ---------------------------------------------------------------- settings in the URL
def encode_params(values: Mapping[str, Any]) -> dict[str, str]:
    """Settings -> query parameters: floats in their shortest exact form, strings as they are."""
    out = {}
    for name, value in values.items():
        out[name] = repr(float(value)) if isinstance(value, (int, float)) else str(value)
    return out


def decode_params(
    params: Mapping[str, str | list[str]], spec: Mapping[str, type | Sequence[str]]
) -> tuple[dict[str, Any], list[str]]:
    """Query parameters -> (valid settings, messages about the ignored ones).

    ``spec`` maps each name to ``float`` or to the tuple of allowed strings; unknown names are
    ignored silently (other apps may add their own).
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, kind in spec.items():
        if name not in params:
            continue
        raw = params[name]
        text = raw[-1] if isinstance(raw, list) else raw
        if kind is float:
            try:
                number = float(text)
            except ValueError:
                problems.append(f"{name}={text!r} is not a number")
                continue
            if not math.isfinite(number):
                problems.append(f"{name}={text!r} is not a finite number")
                continue
            values[name] = number
        elif text in kind:  # type: ignore[operator]
            values[name] = text
        else:
            problems.append(f"{name}={text!r} is not one of {', '.join(kind)}")  # type: ignore[arg-type]
    return values, problems


def sync_query_params(values: Mapping[str, Any]) -> None:
    """Write the page's settings into the URL (only when they changed) so a link shares them."""
    wanted = encode_params(values)
    current = {k: st.query_params.get(k) for k in wanted}
    if current != wanted:
        st.query_params.from_dict(wanted)
