"""One key looked up, not the whole Session State copied: Streamlit 1.67's input widgets ask
whether their key holds None by building ``filtered_state``, a dict of every entry in Session
State, on every call.

Why it matters (measured): each ``st.number_input``, ``st.selectbox``, ``st.radio``,
``st.text_input`` and ``st.text_area`` runs

    session_state = get_session_state().filtered_state
    if key is not None and key in session_state and session_state[key] is None: ...

and ``filtered_state`` reads (and presents) every entry of Session State: 70-odd on /forward
after a visit to two pages, twelve times a run. In a cProfile of /forward under 10 sessions
(benchmarks/profile_server.py --page forward) it was 23% of the page's time.

``install()`` gives those widget modules a ``get_session_state`` whose ``filtered_state`` is a
view that answers ``key in view`` and ``view[key]`` for one key, with exactly the answers of
the dict (tests/ui/common/test_widget_lookup.py compares them on the app's real Session State):
a key is in ``filtered_state`` when it is no element id and no internal key, Session State
holds a value for it, and, when a widget carries it, that widget's id is a keyed one; its value
is Session State's. Everything else is the real object's. Only for the Streamlit version it was
read from, and only if each module still uses ``filtered_state`` in that one way only
(``patchable``); otherwise nothing changes.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import streamlit
from streamlit.runtime.state import get_session_state
from streamlit.runtime.state.common import is_element_id, is_keyed_element_id
from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

STREAMLIT_VERSION = "1.67.0"  # the version whose widgets were read (requirements pin it)
WIDGET_MODULES = ("number_input", "selectbox", "radio", "text_widgets")
# The only use of filtered_state these modules may make (a slider's, in a branch our sliders
# never take, would read the dict: st.slider's module is not patched).
_USE = re.compile(r"session_state = get_session_state\(\)\.filtered_state\n\s+if key is not "
                  r"None and key in session_state and session_state\[key\] is None:")


def _is_internal(key: str) -> bool:
    return key.startswith(STREAMLIT_INTERNAL_KEY_PREFIX)


class UserKeyView(Mapping):
    """``SessionState.filtered_state`` for one key at a time (see the module): ``in`` and ``[]``
    as the dict would answer, iteration through the dict itself."""

    def __init__(self, safe_state: Any) -> None:
        self._safe = safe_state

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str) or is_element_id(key) or _is_internal(key):
            return False
        with self._safe._lock:
            state = self._safe._state
            widget_id = state._get_widget_id(key)
            if widget_id != key and (not is_keyed_element_id(widget_id)
                                     or _is_internal(widget_id)):
                return False
            return key in state

    def __getitem__(self, key: str) -> Any:
        if key not in self:
            raise KeyError(key)
        with self._safe._lock:
            return self._safe._state[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._safe.filtered_state)

    def __len__(self) -> int:
        return len(self._safe.filtered_state)


class _OneKeySessionState:
    """What the patched modules' ``get_session_state()`` returns: the real SafeSessionState,
    whose ``filtered_state`` is a ``UserKeyView``."""

    def __init__(self, safe_state: Any) -> None:
        self._safe = safe_state

    @property
    def filtered_state(self) -> UserKeyView:
        return UserKeyView(self._safe)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._safe, name)


def _one_key_session_state() -> _OneKeySessionState:
    return _OneKeySessionState(get_session_state())


def patchable(module: Any) -> bool:
    """Whether a widget module uses ``filtered_state`` only as the one-key test above."""
    source = inspect.getsource(module)
    return (getattr(module, "get_session_state", None) is not None
            and source.count("filtered_state") == len(_USE.findall(source)) > 0)


@cache
def install() -> tuple[str, ...]:
    """Patch the widget modules, once per process; the names of those patched."""
    if streamlit.__version__ != STREAMLIT_VERSION:
        return ()
    patched = []
    for name in WIDGET_MODULES:
        module = importlib.import_module(f"streamlit.elements.widgets.{name}")
        if module.get_session_state is _one_key_session_state or patchable(module):
            module.get_session_state = _one_key_session_state
            patched.append(name)
    return tuple(patched)
