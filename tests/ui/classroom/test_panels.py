"""The live class's page table (ui.classroom.panels): it names every lesson page's settings
table and tasks, so a teacher's page can be followed and its tasks set for the class."""

from __future__ import annotations

import numpy as np

from ui.classroom import panels


def test_every_lesson_page_can_be_followed() -> None:
    for url_path, module in panels.PAGE_MODULES.items():
        state = panels.page_module(url_path).STATE
        assert panels.PREFIXES[state.prefix] == url_path, module
        assert panels.page_of(state) == url_path
        assert state.url_spec, f"{url_path} has no settings a link (or a teacher) can set"
    assert sorted(panels.PREFIXES.values()) == sorted(panels.PAGE_MODULES)


def test_the_numbers_the_dashboard_summarises() -> None:
    assert panels.summary_numbers("forward", "target", {"w5": 0.5, "w6": -1}, {}) == {
        "w5": 0.5, "w6": -1.0}
    assert panels.summary_numbers("forward", "overshoot", {}, {"lr": 3}) == {"lr": 3.0}
    runs = [("sgd", 0.1), ("adam", 5.0), ("sgd", 2.0)]
    assert panels.summary_numbers("descent", "diverge", {}, {"runs": runs}) == {"lr": 2.0}
    assert panels.summary_numbers("descent", "reach", {}, {"runs": runs}) == {"lr": 5.0}
    p = np.full(10, 0.01)
    p[7] = 0.91
    assert panels.summary_numbers("digits", "seven", {}, {"probabilities": p}) == {
        "p7": 0.91}
    assert panels.summary_numbers("digits", "seven", {}, {"probabilities": None}) == {}
    assert panels.summary_numbers("forward", "target", {}, {}) == {}  # nothing to summarise
