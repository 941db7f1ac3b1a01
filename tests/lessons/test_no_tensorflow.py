"""TensorFlow never enters the web server's process (issue 4: Streamlit's per-run
``keras.backend.clear_session()`` + ``gc.collect`` would slow every page of every student).

A fresh interpreter renders every page of app.py through AppTest, including a prediction, a
random MNIST digit and the feature maps on the digit page, then reports ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.support import ROOT

# The digit page last: the drawing below is injected into it.
PAGES = ("lessons/forward_pass.py", "lessons/curves.py", "lessons/gradient_descent.py",
         "lessons/convolution.py", "lessons/draw_digit.py")

SCRIPT = textwrap.dedent("""
    import base64, io, json, sys
    import numpy as np
    from PIL import Image
    from streamlit.testing.v1 import AppTest

    root, pages = sys.argv[1], json.loads(sys.argv[2])
    sys.path.insert(0, root)
    report = {"exceptions": {}, "visited": [], "titles": []}

    def check(at, name):
        report["visited"].append(name)
        report["titles"].append(at.title[0].value if len(at.title) else None)
        if at.exception:
            report["exceptions"][name] = [str(e.value)[:300] for e in at.exception]

    at = AppTest.from_file(root + "/app.py", default_timeout=120)
    at.run()
    check(at, "home")
    for page in pages:
        at.switch_page(page)
        at.run()
        check(at, page)
    # On the digit page: a drawing is read (prediction + feature maps), then a test digit.
    ink = np.zeros((280, 280, 4), np.uint8)
    ink[..., 3] = 255
    ink[40:240, 130:150, :3] = 255  # a white "1" on the black canvas
    buf = io.BytesIO()
    Image.fromarray(ink).save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    at.session_state["digit_canvas_0"] = {
        "drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}, "backgroundFit": None}
    at.run()
    check(at, "digits: drawing")
    report["prediction"] = [m.value for m in at.metric if m.label == "Prediction"]
    at.button(key="digit_random").click()
    at.run()
    check(at, "digits: random test digit")
    report["tensorflow"] = "tensorflow" in sys.modules
    report["keras"] = "keras" in sys.modules
    report["tf_like"] = sorted(m for m in sys.modules
                               if m.split(".")[0] in ("tensorflow", "keras", "tf_keras"))[:10]
    print("REPORT " + json.dumps(report))
""")


def test_no_page_imports_tensorflow_or_keras() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT), json.dumps(PAGES)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("REPORT ")]
    assert proc.returncode == 0 and lines, f"the subprocess failed:\n{proc.stderr[-3000:]}"
    report = json.loads(lines[-1].removeprefix("REPORT "))
    assert report["visited"] == ["home", *PAGES, "digits: drawing", "digits: random test digit"]
    assert report["exceptions"] == {}
    titles = report["titles"][: 1 + len(PAGES)]
    assert None not in titles and len(set(titles)) == len(titles), titles  # really switched
    assert report["prediction"] == ["1"]  # the digit page really ran its NumPy forward pass
    assert not report["tensorflow"], report["tf_like"]
    assert not report["keras"], report["tf_like"]
