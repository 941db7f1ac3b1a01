"""The Russian catalog: complete, current with the code, compiled, and chosen as the issue says.

The catalog is ``locale/ru/LC_MESSAGES/messages.po``, made by ``make messages`` (Babel). These
tests re-extract the strings from the code with the Makefile's own keywords, so a string added
without a translation, or a translation left fuzzy, fails here rather than reaching a student
as English on a Russian page.
"""

from __future__ import annotations

import io
import re
import shlex
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from tests.support import ROOT
from ui.common.i18n import DOMAIN, LOCALE_DIR, N_, translations

PO = LOCALE_DIR / "ru" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")
POT = LOCALE_DIR / f"{DOMAIN}.pot"
APP = str(ROOT / "app.py")


def catalog(path: Path = PO):
    with path.open("rb") as fh:
        return read_po(fh)


def messages(path: Path = PO) -> list:
    """The catalog's messages without the header entry."""
    return [m for m in catalog(path) if m.id]


def babel_keywords() -> list[str]:
    """The extraction keywords exactly as `make messages` passes them (the Makefile's line)."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(r"^BABEL_KEYWORDS := (.*)$", text, re.MULTILINE)
    assert match, "the Makefile defines BABEL_KEYWORDS"
    return shlex.split(match.group(1))


def test_every_message_has_a_russian_translation() -> None:
    missing = [m.id for m in messages()
               if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in messages() if m.fuzzy]
    assert not missing, f"untranslated: {missing}"
    assert not fuzzy, f"fuzzy (check and clear the flag): {fuzzy}"


def fields(text: str) -> set[str]:
    """The str.format fields of ``text`` with their format specs: {n}, {fit:,}."""
    return {f"{name}:{spec}" for _, name, spec, _ in string.Formatter().parse(text)
            if name is not None}


def test_placeholders_are_the_same_in_every_translation() -> None:
    for m in messages():
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = fields(ids[-1])
        for text in filter(None, strings):  # an empty one fails the test above
            assert fields(text) == wanted, f"{m.id!r} -> {text!r}"


def test_catalog_holds_exactly_the_strings_of_the_code(tmp_path: Path) -> None:
    """Re-extract with the Makefile's keywords: every string of the code is in the .pot and the
    .po, and they hold none that the code no longer has (run `make messages` otherwise)."""
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F",
                    "babel.cfg", *babel_keywords(), "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True)
    code = {m.id for m in messages(pot)}
    assert code, "the extraction found no strings"
    assert {m.id for m in messages(POT)} == code, "locale/messages.pot is stale: make messages"
    in_po = {m.id for m in messages()}
    assert code - in_po == set(), "strings missing from the .po: make messages"
    assert in_po - code == set(), "the .po holds strings the code no longer has: make messages"


def test_the_committed_mo_is_the_compiled_po() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalog())
    assert MO.read_bytes() == compiled.getvalue(), "messages.mo is stale: make messages"


def test_russian_plural_forms_follow_the_number() -> None:
    ru = translations("ru")
    forms = [ru.ngettext("{n} training step", "{n} training steps", n).format(n=n)
             for n in (1, 3, 5, 21, 11)]
    assert forms == ["1 шаг обучения", "3 шага обучения", "5 шагов обучения",
                     "21 шаг обучения", "11 шагов обучения"]


def test_marking_is_a_no_op_and_english_is_the_msgid() -> None:
    assert N_("Forward pass") == "Forward pass"
    assert translations("en").gettext("Forward pass") == "Forward pass"
    assert translations("ru").gettext("Forward pass") == "Прямое распространение"


# -- choosing the language (the real app.py, its navigation and sidebar switch) --------------

def run_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception
    return at


def switch(at: AppTest):
    """The sidebar's language switch (a segmented control)."""
    return next(w for w in at.sidebar.button_group)


def test_english_without_a_choice_and_russian_from_the_link() -> None:
    assert run_app().title[0].value == "Neural-network playground"
    at = run_app(lang="ru")
    assert at.title[0].value == "Песочница нейронных сетей"
    assert switch(at).value == "ru"


def test_an_unknown_language_in_the_link_is_ignored() -> None:
    assert run_app(lang="xx").title[0].value == "Neural-network playground"


def test_the_switch_changes_the_language_and_keeps_it_across_pages() -> None:
    at = run_app()
    switch(at).set_value("ru").run()
    assert at.title[0].value == "Песочница нейронных сетей"
    assert at.query_params["lang"] == "ru"  # a copied link carries the choice
    at.switch_page("lessons/forward_pass.py").run()
    assert at.title[0].value == "Прямое распространение в сети 2-2-1"
    switch(at).set_value("en").run()
    assert at.title[0].value == "Forward pass of a 2-2-1 network"


@pytest.mark.parametrize("locale", ["ru-RU", "ru"])
def test_a_russian_browser_gets_russian(locale: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``st.context.locale`` is the browser's language; AppTest has no browser, so the locale
    it reports is set here the way the server receives it (the session's client context)."""
    from streamlit.runtime.context import ContextProxy

    monkeypatch.setattr(ContextProxy, "locale", property(lambda self: locale))
    assert run_app().title[0].value == "Песочница нейронных сетей"


def test_the_optimizer_summaries_marked_for_the_catalog_are_nn_cores() -> None:
    from nn_core.basics.optimizers import OPTIMIZERS
    from ui.descent.panels import OPTIMIZER_SUMMARIES

    assert {name: o.summary for name, o in OPTIMIZERS.items()} == OPTIMIZER_SUMMARIES
