"""The drawing canvas: streamlit-drawable-canvas, sending a stroke 30 ms after mouse-up.

streamlit-drawable-canvas 0.13 waits 200 ms after the last change before it sends the
drawing to the server: a debounce written into its JavaScript bundle (``Bc = 200``), not a
parameter of ``st_canvas``. On /digits that was 200 of the 330 ms from mouse-up to the
prediction (``benchmarks/bench_browser.py``). A stroke ends with one mouse-up, so the
debounce only merges strokes drawn less than 200 ms apart; 30 ms still merges a double
click.

``use_fast_canvas()`` serves the package's own bundle with that one constant changed, as a
Streamlit v2 component of its own (``nn-playground.drawing_canvas``):

- the copy is written once per server process into a private temporary folder (the app's code
  may be read-only, as in the Docker image), removed when the process exits;
- the component is declared on the running server's component manager the way an installed
  package's ``pyproject.toml`` declares it (``asset_dir``), since v2 components serve
  JavaScript files only from a declared asset folder;
- ``st_canvas`` then mounts that component instead of the package's (the package's module
  looks up ``out`` when called), with the same arguments and the same result.

If the bundle does not contain the constant exactly once (another version of the
package), nothing is replaced and the package's own component draws, 200 ms and all.

``new_drawing`` reads what the canvas sends back on every run: its PNG, decoded only when the
drawing is new.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import io
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image
from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest
from streamlit.errors import StreamlitAPIException
from streamlit.runtime import Runtime

LOG = logging.getLogger(__name__)

PACKAGE_NAME = "nn-playground"
COMPONENT_NAME = "drawing_canvas"
FULL_NAME = f"{PACKAGE_NAME}.{COMPONENT_NAME}"
ORIGINAL_DEBOUNCE = "Bc = 200,"
SEND_DELAY_MS = 30
# Found without importing the package: its import registers its component, which needs a
# running Streamlit server.
PACKAGE_BUILD = (Path(importlib.util.find_spec("streamlit_drawable_canvas").origin).parent
                 / "frontend" / "build")


def patched_bundle(source: str, delay_ms: int = SEND_DELAY_MS) -> str:
    """The canvas bundle's JavaScript with its send delay set to ``delay_ms``.

    Raises ``ValueError`` unless the debounce constant appears exactly once, so that a
    different bundle is never edited blindly.
    """
    if not isinstance(delay_ms, int) or not 0 <= delay_ms <= 1000:
        raise ValueError(f"the send delay must be 0-1000 ms, got {delay_ms!r}")
    count = source.count(ORIGINAL_DEBOUNCE)
    if count != 1:
        raise ValueError(f"expected {ORIGINAL_DEBOUNCE!r} once in the canvas bundle, "
                         f"found it {count} times")
    return source.replace(ORIGINAL_DEBOUNCE, f"Bc = {delay_ms},")


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def write_fast_build(build: Path = PACKAGE_BUILD, root: Path | None = None) -> Path:
    """Write the package's build with the patched bundle; return the copy's package root.

    The root is ``<root>/nn-playground-canvas-<sha256 of the bundle, 12 digits>`` holding
    ``build/`` with the same file names (``index-*.js``, ``index-*.css``); a copy already there
    is reused only if its bytes are exactly the expected ones. Without ``root``, a new private
    folder (``tempfile.mkdtemp``: mode 0700, a random name, removed when the process exits), so
    that no other user of a shared machine can put a script where the server looks for it.
    """
    scripts = sorted(build.glob("index-*.js"))
    styles = sorted(build.glob("index-*.css"))
    if len(scripts) != 1 or len(styles) != 1:
        raise ValueError(f"expected one index-*.js and one index-*.css in {build}")
    source = scripts[0].read_bytes()
    patched = patched_bundle(source.decode("utf-8")).encode("utf-8")
    style = styles[0].read_bytes()
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="nn-playground-canvas-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
    digest = hashlib.sha256(source).hexdigest()[:12]
    package_root = Path(root) / f"nn-playground-canvas-{digest}"
    target = package_root / "build"
    target.mkdir(parents=True, exist_ok=True)
    for path, data in ((target / styles[0].name, style), (target / scripts[0].name, patched)):
        if not (path.is_file() and path.read_bytes() == data):
            _atomic_write(path, data)
    return package_root


def _declare_on_runtime(package_root: Path) -> bool:
    """Declare the copy's asset folder on the running server, once per runtime.

    False without a running server (a plain import), where nothing can be served.
    """
    if not Runtime.exists():
        return False
    manager = Runtime.instance().bidi_component_registry
    if manager.get_component_asset_root(FULL_NAME) is None:
        manifest = ComponentManifest(name=PACKAGE_NAME, version="1",
                                     components=[ComponentConfig(COMPONENT_NAME, "build")])
        manager.register_from_manifest(manifest, package_root)
    return True


def use_fast_canvas() -> bool:
    """Make ``st_canvas`` mount the canvas with the short send delay; False if it cannot.

    Called by the digit page before it draws the canvas (cheap after the first call).
    """
    import streamlit_drawable_canvas

    global _FAST_BUILD, _FAST_RENDERER, _PACKAGE_RENDERER, _UNAVAILABLE
    if _PACKAGE_RENDERER is None:
        _PACKAGE_RENDERER = streamlit_drawable_canvas.out
    if _UNAVAILABLE:
        return False
    try:
        if _FAST_BUILD is None:
            _FAST_BUILD = write_fast_build()
        if not _declare_on_runtime(_FAST_BUILD):
            return False
        if _FAST_RENDERER is None:  # validated against the declared asset folder
            _FAST_RENDERER = st.components.v2.component(
                FULL_NAME, js="index-*.js", css="index-*.css",
                html='<div class="canvas-root"></div>', isolate_styles=True)
        renderer = _FAST_RENDERER
    except (OSError, ValueError, StreamlitAPIException) as exc:
        LOG.warning("the canvas keeps its 200 ms send delay: %s", exc)
        _UNAVAILABLE = True
        streamlit_drawable_canvas.out = _PACKAGE_RENDERER
        return False
    streamlit_drawable_canvas.out = renderer
    return True


_PACKAGE_RENDERER = None
_FAST_BUILD: Path | None = None
_FAST_RENDERER = None
_UNAVAILABLE = False


def new_drawing(png: bytes | None, json_data: Any, saved: dict | None) -> np.ndarray | None:
    """The canvas's pixels, (H, W, 4) uint8, when they differ from the ``saved`` drawing's;
    None when the canvas has sent nothing yet (``png`` None) or sends the same drawing again.

    Every run of the page gets the canvas's PNG back, but only a stroke changes it: the same
    fabric json and size (read from the PNG's header) mean the same pixels, and the PNG is
    decoded (~1.2 ms for 280×280) only for a new drawing. A garbled PNG raises PIL's error.
    """
    if png is None:
        return None
    picture = Image.open(io.BytesIO(png))  # reads the header only
    bands = len(picture.getbands())
    shape = (picture.height, picture.width) + ((bands,) if bands > 1 else ())
    if saved is not None and json_data == saved["json"] and saved.get("rgba_shape") == shape:
        return None
    return np.asarray(picture)
