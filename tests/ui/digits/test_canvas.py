"""The canvas served with a 30 ms send delay (ui/digits/canvas.py), on the installed bundle."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.digits import canvas


def test_the_installed_bundle_has_the_debounce_once_and_only_it_changes() -> None:
    source = next(canvas.PACKAGE_BUILD.glob("index-*.js")).read_text("utf-8")
    patched = canvas.patched_bundle(source)
    assert patched.count("Bc = 30,") == 1 and "Bc = 200," not in patched
    # the constant is what the bundle's sender waits for: `Nh((c) => Ic(h, c), Bc)`
    assert re.search(r"sender = Nh\(\(c\) => Ic\(h, c\), Bc\)", patched)
    assert patched.replace("Bc = 30,", "Bc = 200,") == source


@pytest.mark.parametrize("source", ["", "Bc = 200, Bc = 200,", "Bc = 250,"])
def test_another_bundle_is_not_edited(source: str) -> None:
    with pytest.raises(ValueError, match="once in the canvas bundle"):
        canvas.patched_bundle(source)


@pytest.mark.parametrize("delay", [-1, 1001, 2.5, "30"])
def test_the_delay_is_bounded(delay: object) -> None:
    with pytest.raises(ValueError, match="0-1000 ms"):
        canvas.patched_bundle("Bc = 200,", delay)  # type: ignore[arg-type]


def test_the_copy_keeps_the_file_names_and_is_reused(tmp_path: Path) -> None:
    root = canvas.write_fast_build(root=tmp_path)
    copied = sorted(p.name for p in (root / "build").iterdir())
    assert copied == sorted(p.name for p in canvas.PACKAGE_BUILD.glob("index-*"))
    script = next((root / "build").glob("index-*.js"))
    assert "Bc = 30," in script.read_text("utf-8")
    stamp = script.stat().st_mtime_ns
    assert canvas.write_fast_build(root=tmp_path) == root
    assert script.stat().st_mtime_ns == stamp  # not written again


def test_a_changed_copy_is_written_again(tmp_path: Path) -> None:
    root = canvas.write_fast_build(root=tmp_path)
    script = next((root / "build").glob("index-*.js"))
    script.write_text("alert('not the canvas')")
    canvas.write_fast_build(root=tmp_path)
    assert "Bc = 30," in script.read_text("utf-8")


def test_without_a_root_the_copy_is_private() -> None:
    root = canvas.write_fast_build()
    assert (root.parent.stat().st_mode & 0o777) == 0o700
    assert root.parent != canvas.write_fast_build().parent  # a new folder each time


def test_a_build_without_one_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one index-"):
        canvas.write_fast_build(build=tmp_path, root=tmp_path)


DIGITS_SCRIPT = """
import streamlit as st
import streamlit_drawable_canvas
from ui.digits.canvas import FULL_NAME, use_fast_canvas
from streamlit.runtime import Runtime
st.session_state["fast"] = use_fast_canvas()
manager = Runtime.instance().bidi_component_registry
st.session_state["served_from"] = str(manager.get_component_path(FULL_NAME))
result = streamlit_drawable_canvas.st_canvas(height=100, width=100, key="c",
                                             return_image_data=True)
st.session_state["image"] = result.image_data
"""


def test_st_canvas_mounts_the_fast_component_on_a_running_app() -> None:
    at = AppTest.from_string(DIGITS_SCRIPT).run()
    assert not at.exception
    assert at.session_state["fast"] is True
    served = Path(at.session_state["served_from"])
    assert served.name == "build" and "Bc = 30," in next(served.glob("index-*.js")).read_text()
    assert at.session_state["image"] is None  # nothing drawn yet
    mounted = at.main[0].proto
    assert mounted.component_name == "nn-playground.drawing_canvas"
    assert mounted.js_source_path.startswith("index-") and mounted.css_source_path
