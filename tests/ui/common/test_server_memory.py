"""ui.common.server_memory: the server's import of app.py freezes the libraries' code for the
garbage collector, imports the pages' modules without TensorFlow, and garbage is still
collected afterwards."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import ROOT
from ui.common import server_memory

# What `streamlit run app.py` does with app.py (it imports it as ``app`` to find ``app.app``),
# in a fresh interpreter, then what the collector sees.
SERVER_IMPORT = """
import gc, json, sys
sys.path.insert(0, sys.argv[1])
import app
frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())
class Node:
    pass
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle: only the cyclic collector frees it
del a, b
print(json.dumps({"frozen": frozen, "tracked": tracked, "collected": gc.collect(),
                  "modules": sorted(sys.modules), "app": type(app.app).__name__}))
"""


def test_the_servers_import_freezes_the_libraries_and_still_collects_garbage() -> None:
    done = subprocess.run([sys.executable, "-c", SERVER_IMPORT, str(ROOT)], capture_output=True,
                          text=True, timeout=180, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["app"] == "App"
    # the libraries' code is set aside: a full collection walks a fraction of the objects
    assert out["frozen"] > 0 and out["tracked"] < out["frozen"] // 10, out
    assert out["collected"] >= 2  # the two nodes of the cycle made after the freeze
    modules = set(out["modules"])
    expected = set(server_memory.page_modules()) - server_memory.NEEDS_A_SCRIPT_RUN
    assert expected <= modules and {"plotly.graph_objects", "pandas", "numpy"} <= modules
    # TensorFlow never enters the web server process (nor Ray, the cluster's client)
    assert not {"tensorflow", "keras", "ray", "torch"} & modules


def test_the_modules_left_to_a_script_run_exist() -> None:
    assert set(server_memory.page_modules()) >= server_memory.NEEDS_A_SCRIPT_RUN
    assert "ui.descent.figures" in server_memory.page_modules()
