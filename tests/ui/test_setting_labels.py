"""The teacher's lesson-link tools name each control a link can fix or hide by its declared
label (``Setting.label``), in the student's language, never by the setting's code name."""

from __future__ import annotations

import re

import pytest

from ui.common.i18n import translations
from ui.common.state import PageState
from ui.convolution import state as convolution
from ui.curves import state as curves
from ui.descent import state as descent
from ui.digits import state as digits
from ui.forward import state as forward

PAGES = {"forward": forward.STATE, "curves": curves.STATE, "descent": descent.STATE,
         "digits": digits.STATE, "convolution": convolution.STATE}
VARIABLE = re.compile(r"[wx]\d")  # w1..w6, x1, x2: the lesson's own names, shown as they are


@pytest.mark.parametrize("page", PAGES)
def test_every_control_a_link_can_fix_has_a_translated_label(page: str) -> None:
    state: PageState = PAGES[page]
    russian = translations("ru").gettext
    for name in state.url_spec:
        label = state.settings[name].label
        if VARIABLE.fullmatch(name) and not label:
            continue
        assert label, f"{page}: setting {name!r} has no label for the teacher's tools"
        assert russian(label) != label, f"{page}: the label {label!r} has no Russian"
