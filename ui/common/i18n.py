"""The interface language: gettext lookups for the current browser session, Russian or English.

Every user-facing string in ``app.py``, ``lessons/`` and ``ui/`` goes through ``_("text")``
(``ngettext`` for plurals), the English text being the gettext msgid. The Russian catalog is
``locale/ru/LC_MESSAGES/messages.po``, compiled to ``messages.mo`` next to it; ``make messages``
extracts the strings with Babel (``babel.cfg``), merges them into the catalog and compiles it.

Strings fixed at import time (settings tables, option labels, figure titles kept as constants)
cannot be translated then, since no session exists yet: they are marked with the no-op ``N_`` so
Babel extracts them, and translated where they are shown (``_(TITLE)``, or ``format_func=_`` for a
selectbox, whose option values stay English: they are what the URL and the code store).

The language is chosen once per run, by ``choose_language`` at the top of ``app.py``: the
``lang`` query parameter first (so a shared link opens in its language), then the session's
earlier choice, then the browser's language (``st.context.locale``), else English. The sidebar
switch (``language_switch``) writes its choice to the session and to the URL.
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
LANGUAGE_KEY = "lang"  # Session State key and query parameter of the chosen language
# Each language's name in itself, as a language switch shows them.
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (a no-op for English or a missing catalog)."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def _valid(language: object) -> str | None:
    """``language`` if it is one of LANGUAGES, else None."""
    return language if isinstance(language, str) and language in LANGUAGES else None


def choose_language() -> str:
    """Decide the session's language for this run and keep it in Session State.

    The URL's ``lang`` first, then the session's earlier choice, then the browser's language
    (``st.context.locale``, e.g. ``ru-RU``), else English. An unknown ``lang`` is ignored.
    """
    language = _valid(st.query_params.get(LANGUAGE_KEY))
    if language is None:
        language = _valid(st.session_state.get(LANGUAGE_KEY))
    if language is None:
        try:
            locale = st.context.locale or ""
        except Exception:  # no browser context (a bare script run)
            locale = ""
        language = "ru" if locale.lower().startswith("ru") else DEFAULT_LANGUAGE
    st.session_state[LANGUAGE_KEY] = language
    return language


def current_language() -> str:
    """The session's language code; English outside a Streamlit session.

    A page run on its own (``AppTest.from_file`` of a lesson, without ``app.py``) chooses on
    its first lookup, so ``?lang=ru`` works there too.
    """
    try:
        language = _valid(st.session_state.get(LANGUAGE_KEY))
        return language if language is not None else choose_language()
    except Exception:  # no session: a bare script or a worker
        return DEFAULT_LANGUAGE


def catalog() -> gettext.NullTranslations:
    """The session's gettext catalog, for nn_core functions that take one (model summaries):
    nn_core never imports Streamlit, so the page passes it the language."""
    return translations(current_language())


def _(message: str) -> str:
    """``message`` in the session's language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for ``n``, in the session's language (Russian
    has three forms: 1 модель, 2 модели, 5 моделей)."""
    return translations(current_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Mark ``message`` for extraction without translating it (translate it where shown)."""
    return message


def _language_to_url() -> None:
    """The switch's callback: the chosen language also goes to the URL, so it wins over an
    older ``lang`` there and a copied link carries it."""
    st.query_params[LANGUAGE_KEY] = st.session_state[LANGUAGE_KEY]


def language_switch() -> str:
    """The sidebar's language switch (drawn by ``app.py`` on every page); the language."""
    from ui.common.widgets import persistent  # widgets' labels are translated: no import cycle

    return persistent(st.sidebar.segmented_control, "🌐 " + _("Language"), LANGUAGE_KEY,
                      options=LANGUAGES, format_func=LANGUAGE_NAMES.get,
                      selection_mode="single", required=True, on_change=_language_to_url)


def keep_language_in_url(params: dict[str, str]) -> dict[str, str]:
    """``params`` plus the URL's ``lang`` when it has one: a page that rewrites its query
    parameters keeps the language, so a copied link opens in it."""
    language = _valid(st.query_params.get(LANGUAGE_KEY))
    return params if language is None else {**params, LANGUAGE_KEY: language}
