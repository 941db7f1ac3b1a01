"""The interface language: gettext lookups for the current browser session.

Stub API (being filled in by the i18n work): ``_("text")`` returns the text in the session's
language; every user-facing string in ``ui/`` and ``lessons/`` goes through it.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

import streamlit as st

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"
DOMAIN = "messages"
LANGUAGES: tuple[str, ...] = ("en", "ru")
DEFAULT_LANGUAGE = "en"
LANGUAGE_KEY = "lang"  # Session State key of the chosen language


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (a no-op for English or a missing catalog)."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def current_language() -> str:
    """The session's language code, English outside a Streamlit session."""
    try:
        language = st.session_state.get(LANGUAGE_KEY, DEFAULT_LANGUAGE)
    except Exception:  # no session: a bare script or a worker
        return DEFAULT_LANGUAGE
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def _(message: str) -> str:
    """``message`` in the session's language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for ``n``, in the session's language."""
    return translations(current_language()).ngettext(singular, plural, n)
