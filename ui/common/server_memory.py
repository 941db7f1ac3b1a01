"""The web server's objects and Python's cyclic garbage collector: the libraries' code is set
aside once, so that a collection walks only what the sessions made.

Why (measured with a ``gc.callbacks`` timer in the server under ``benchmarks/loadtest.py
--pages descent --sessions 30``): CPython's collector walks every object of a generation with
the GIL held, and a full collection walks them all. The server held ~250,000 tracked objects,
most of them the code of Streamlit, plotly, pandas and the pages' modules (functions, classes,
module dicts), which live as long as the process; a full collection took 150-220 ms (~0.8 µs an
object: memory-bound) and came every 4-5 s under load, stopping every session's rerun while it
ran, and a second-generation one ~4 ms, ~2 a second. ``gc.freeze()`` moves every object alive
at the moment into a permanent generation that collections skip; done once after the imports,
it leaves the collector the sessions' own objects (docs/performance.md has the figures before
and after).

``freeze_imported_code()`` runs when the server imports app.py (``app.py``'s ``else``), before
the first session: it imports every module of ``ui`` and ``nn_core`` that imports outside a
script run (``NEEDS_A_SCRIPT_RUN`` are imported by their page's first run, as before), so the
first student also waits less, collects what the imports left, then freezes. Garbage is still
collected as before: only objects that exist at the freeze are kept for good, and those are
modules' code. TensorFlow stays out of the server: ``nn_core`` imports Keras only inside the
functions that build Keras models (tests/ui/common/test_server_memory.py checks it).
"""

from __future__ import annotations

import gc
import importlib
import pkgutil

import nn_core
import ui

# Modules that only a script run can import: the canvas declares a Streamlit v2 component,
# which needs the running server's component registry (its pyproject-declared asset folder).
NEEDS_A_SCRIPT_RUN = frozenset({"ui.digits.panels"})


def page_modules() -> list[str]:
    """Every module of the ``ui`` and ``nn_core`` packages, sorted (packages included)."""
    names = []
    for package in (ui, nn_core):
        names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    return sorted(names)


def freeze_imported_code() -> None:
    """Import the pages' modules (but ``NEEDS_A_SCRIPT_RUN``), collect, then ``gc.freeze()``."""
    for name in page_modules():
        if name not in NEEDS_A_SCRIPT_RUN:
            importlib.import_module(name)
    gc.collect()
    gc.freeze()
