"""Each page's settings as one declared table: key prefix, defaults, and what travels in the URL.

In the spirit of tensorflow/playground's ``state.ts`` (its ``PROPS`` list): a page lists its
settings once, as ``Setting`` rows, and ``PageState`` keeps them in Session State under
``<prefix><name>`` (``fwd_w1``, ``gd_loss``), puts them back to their defaults, and reads and
writes the ones marked ``url`` from and to the address bar, so a link opens the same page.
Widgets bind to these keys through ``ui.common.widgets``, the one persistence helper.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ui.common.format import plain

# What a setting may be in the URL: float, int, bool, or the tuple of allowed strings.
UrlKind = type | Sequence[str]
Default = Any | Callable[[], Any]  # a callable makes a fresh value (tables, lists) each time


@dataclass(frozen=True)
class Setting:
    """One setting of a page: its name (the key without prefix), default, and URL kind."""

    name: str
    default: Default
    url: UrlKind | None = None  # None: never in the URL (tables, history, transient state)

    def fresh_default(self) -> Any:
        """The default as a new object, so no session shares (and mutates) another's."""
        return self.default() if callable(self.default) else copy.deepcopy(self.default)


def encode_params(values: Mapping[str, Any]) -> dict[str, str]:
    """Settings -> query parameters: floats in their shortest exact form, strings as they are."""
    out = {}
    for name, value in values.items():
        if isinstance(value, bool):
            out[name] = "1" if value else "0"
        elif isinstance(value, int | float):
            out[name] = repr(float(value)) if isinstance(value, float) else str(value)
        else:
            out[name] = str(value)
    return out


def _decode(text: str, kind: UrlKind) -> Any:
    """One query value -> setting value; ValueError with a plain-text reason."""
    if kind is bool:
        if text not in ("0", "1", "true", "false"):
            raise ValueError("is not 0 or 1")
        return text in ("1", "true")
    if kind in (float, int):
        try:
            number = float(text)
        except ValueError:
            raise ValueError("is not a number") from None
        if not math.isfinite(number):
            raise ValueError("is not a finite number")
        if kind is int:
            if number != int(number):
                raise ValueError("is not a whole number")
            return int(number)
        return number
    if text in kind:  # type: ignore[operator]
        return text
    raise ValueError(f"is not one of {', '.join(kind)}")  # type: ignore[arg-type]


def decode_params(params: Mapping[str, str | list[str]], spec: Mapping[str, UrlKind],
                  ) -> tuple[dict[str, Any], list[str]]:
    """Query parameters -> (valid settings, messages about the ignored ones).

    ``spec`` maps each name to its URL kind; unknown names are ignored silently (other apps
    may add their own). Messages quote the value as plain, shortened text: a link is not
    trusted to put Markdown, links or images on the page.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, kind in spec.items():
        if name not in params:
            continue
        raw = params[name]
        text = raw[-1] if isinstance(raw, list) else raw
        try:
            values[name] = _decode(text, kind)
        except ValueError as exc:
            problems.append(f"{name}={plain(repr(text))} {exc}")
    return values, problems


class PageState:
    """A page's settings table bound to Session State (one instance per page, at import)."""

    def __init__(self, prefix: str, settings: Iterable[Setting]) -> None:
        self.prefix = prefix
        self.settings: dict[str, Setting] = {s.name: s for s in settings}

    def key(self, name: str) -> str:
        """The Session State key of a setting (``fwd_`` + ``w1``); KeyError if undeclared."""
        if name not in self.settings:
            raise KeyError(f"{self.prefix}: no setting {name!r}")
        return self.prefix + name

    def __getitem__(self, name: str) -> Any:
        return st.session_state[self.key(name)]

    def __setitem__(self, name: str, value: Any) -> None:
        st.session_state[self.key(name)] = value

    def defaults(self, **overrides: Any) -> dict[str, Any]:
        """Every setting's default (or override) under its full key."""
        return {self.key(n): overrides[n] if n in overrides else s.fresh_default()
                for n, s in self.settings.items()}

    def init(self, **overrides: Any) -> bool:
        """Set the settings a session does not have yet; True on its first visit to the page."""
        first = False
        for key, value in self.defaults(**overrides).items():
            if key not in st.session_state:
                st.session_state[key] = value
                first = True
        return first

    def reset(self, **overrides: Any) -> None:
        """Every setting back to its default (use as a button's on_click); editors start over."""
        from ui.common.widgets import bump_editor

        for key, value in self.defaults(**overrides).items():
            st.session_state[key] = value
            bump_editor(key)

    def values(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """The current settings (all, or ``names``) without the prefix."""
        return {n: st.session_state[self.key(n)] for n in (names or self.settings)}

    @property
    def url_spec(self) -> dict[str, UrlKind]:
        """The settings that travel in the URL, with their kinds."""
        return {n: s.url for n, s in self.settings.items() if s.url is not None}

    def read_url(self) -> list[str]:
        """Settings in the URL override the session's (call on its first visit); problems."""
        values, problems = decode_params(st.query_params.to_dict(), self.url_spec)
        for name, value in values.items():
            st.session_state[self.key(name)] = value
        return problems

    def write_url(self) -> None:
        """Write the URL settings into the address bar (only when they changed)."""
        wanted = encode_params(self.values(self.url_spec))
        if {k: st.query_params.get(k) for k in wanted} != wanted:
            st.query_params.from_dict(wanted)
