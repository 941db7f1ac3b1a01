"""Figure builders: plain unvalidated specs (now) against plotly's validated objects (before).

    .venv/bin/python benchmarks/bench_figures.py [--rev b5d1fb4] [--budget 0.4]

For every builder of ui/common, ui/forward, ui/curves and ui/digits, and the descent page's walk,
with the inputs a page really draws (the forward lesson's example; 4 activations of 401 points; a
5,000-step loss chart of 2 paths; the course's walk of Adam and SGD, 6,000 steps; the digit
page's figures from the shipped model's forward pass on an MNIST test
digit), prints the median milliseconds of
  build    the builder call, arrays in, ``go.Figure`` out
  send     what ``st.plotly_chart`` then does with it: ``plotly.io.to_json(plotly.tools.
           return_figure_from_figure_or_data(fig, True), validate=False)``
for the OLD builders (the same modules at git revision ``--rev``, loaded from ``git show`` into
temporary modules) and the NEW ones (this working tree) in the same run, with the ratio old/new,
build + send of each ("total old/new"), and whether both send the same figure: "same"
(json.loads of both are equal), "same*" (equal once typed arrays are decoded and NaN gaps read
as null: the new curves send NaN in a typed array where the old ones sent a list with null), or
DIFF with the first differing path.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import math
import os
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import plotly.io as pio  # noqa: E402
import plotly.tools  # noqa: E402

from nn_core import course  # noqa: E402
from nn_core.basics.activations import activate  # noqa: E402
from nn_core.basics.descent import error_surface, mse_minimum, trajectories  # noqa: E402
from nn_core.basics.network import Network, format_keras  # noqa: E402
from nn_core.basics.optimizers import Run  # noqa: E402
from nn_core.cnn.digits import load_mnist  # noqa: E402
from nn_core.cnn.numpy_forward import forward_layers  # noqa: E402
from nn_core.training.runs import DEFAULT_MODEL_DIR, load_run  # noqa: E402
from ui.common import figures as common_new  # noqa: E402
from ui.curves import figures as curves_new  # noqa: E402
from ui.descent import figures as descent_new  # noqa: E402
from ui.digits import figures as digits_new  # noqa: E402
from ui.forward import figures as forward_new  # noqa: E402

# The builders translate their texts (ui.common.i18n asks Streamlit for the session's language),
# and outside a script run Streamlit logs a warning on every such call: ~40,000 lines a run of
# this benchmark, which has no session and measures the English texts.
logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(
    logging.ERROR)

PATHS = {"common": "ui/common/figures.py", "forward": "ui/forward/figures.py",
         "curves": "ui/curves/figures.py", "digits": "ui/digits/figures.py",
         "descent": "ui/descent/figures.py"}
NEW = {"common": common_new, "forward": forward_new, "curves": curves_new, "digits": digits_new,
       "descent": descent_new}
LESSON_W = (0.42, 0.15, -0.56, 0.83, 0.93, 0.02)
MISTAKES_SHOWN = 24  # as ui/digits/state.py


def load_old(rev: str) -> dict[str, types.ModuleType]:
    """The builder modules as they were at ``rev``, as modules named _old_ui_<page>_figures."""
    modules = {}
    for key, path in PATHS.items():  # common first: the old curves module imports from it
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"],
                                capture_output=True, text=True, check=True).stdout
        source = source.replace("from ui.common.figures import",
                                "from _old_ui_common_figures import")
        name = f"_old_ui_{key}_figures"
        module = types.ModuleType(name)
        module.__file__ = f"{rev}:{path}"
        sys.modules[name] = module  # dataclasses look their module up while being defined
        exec(compile(source, module.__file__, "exec"), module.__dict__)
        modules[key] = module
    return modules


def cases() -> list[tuple[str, str, str, tuple, dict]]:
    """(label, page module, builder name, args, kwargs) for every figure a page draws."""
    net = Network(LESSON_W, (7.2, -5.8), target=0.34)
    f = net.forward()
    loss, _ = net.loss_and_gradients()
    out = [("forward network_diagram", "forward", "network_diagram",
            (LESSON_W, (7.2, -5.8), (f.n1_in, f.n2_in, f.y_in), (f.n1, f.n2, f.y)),
            {"hidden": "linear", "output": "linear", "target": 0.34, "loss": loss,
             "loss_name": "mse", "fmt": format_keras})]

    xs = np.linspace(-10.0, 10.0, 401)
    names = ("relu", "sigmoid", "tanh", "softplus")
    marks = {"N1": f.n1_in, "N2": f.n2_in, "Y": f.y_in}
    markers = [curves_new.CurveMarker(n, k, v, float(activate(n, [v])[0]))
               for n in names for k, v in marks.items()]
    out.append(("curves curves_figure 4×401", "curves", "curves_figure",
                (xs, {n: activate(n, xs) for n in names}),
                {"markers": markers, "guides": {f"{k} = {v:.4g}": v for k, v in marks.items()},
                 "title": "f(x)", "y_title": "f(x)", "y_range": (-2.0, 2.0)}))

    steps = np.arange(5001)
    adam = 2.0 * np.exp(-steps / 700.0) + 1e-4
    with np.errstate(over="ignore"):
        sgd = 2.0 * 1.01 ** steps  # diverges: inf from about step 71,000 on; stopped at 4,000
    out.append(("common loss_step_figure 2×5001", "common", "loss_step_figure",
                ({"Adam": adam, "SGD": sgd},),
                {"step": 2500, "diverged_at": {"Adam": None, "SGD": 4000}, "log_y": True}))

    # the descent page's walk: the course's data, Adam(0.001) and SGD(0.01) for 6,000 steps
    inputs, targets = np.array(course.DESCENT_INPUTS), np.array(course.DESCENT_TARGETS)
    w1, w2, z = error_surface(inputs, targets, "mse", course.DESCENT_RANGE, 61)
    walk = [descent_new.PathTrace(name, p.weights, p.losses, p.diverged_at)
            for name, p in zip(("Adam", "SGD"), trajectories(
                [Run("adam", 0.001), Run("sgd", 0.01)], course.DESCENT_START, inputs, targets,
                "mse", 6000), strict=True)]
    out.append(("descent walk_figure 2×6000", "descent", "walk_figure", (w1, w2, z, walk),
                {"steps": 6000, "start": course.DESCENT_START,
                 "minimum": tuple(mse_minimum(inputs, targets)), "log_y": True}))

    model = load_run(DEFAULT_MODEL_DIR)
    (_, _), (x_test, y_test) = load_mnist()
    image = x_test[0].astype(np.float32) / 255
    outputs = forward_layers(model.spec, model.weights, image[None])
    out.append(("digits input_image_figure", "digits", "input_image_figure", (image,), {}))
    out.append(("digits probability_figure", "digits", "probability_figure",
                (outputs[-1].values[0],), {}))
    kinds = [layer.kind for layer in model.spec.layers if layer.kind in ("conv", "dense")]
    kernel = model.weights[2 * kinds.index("conv")]
    out.append(("digits filter_figure", "digits", "filter_figure", (kernel, "filters"), {}))
    layers = [(layer.values[0], f"{layer.name} → {'×'.join(map(str, layer.values[0].shape))}")
              for layer in outputs if layer.kind in ("conv", "maxpool", "avgpool")]
    out.append((f"digits feature_maps_figure, {len(layers)} layers", "digits",
                "feature_maps_figure", (layers,), {}))
    for layer in outputs[:-1]:
        if layer.kind == "dense":
            values = layer.values[0]
            out.append((f"digits dense_figure {values.size}", "digits", "dense_figure",
                        (values, layer.name), {}))
    out.append(("digits training_curves_figure", "digits", "training_curves_figure",
                (model.history,), {}))
    live = {"x": list(np.linspace(0.01, 1.5, 150)), "loss": list(np.linspace(2, 0.1, 150)),
            "accuracy": list(np.linspace(0.2, 0.98, 150))}
    out.append(("digits training_curves_figure live", "digits", "training_curves_figure",
                (model.history,), {"live": live}))
    out.append(("digits confusion_figure", "digits", "confusion_figure",
                (model.result["confusion"],), {}))
    indices = [int(i) for i in model.result["mistakes"]][:MISTAKES_SHOWN]
    out.append(("digits mistakes_figure", "digits", "mistakes_figure",
                (x_test[indices], y_test[indices],
                 model.result["mistakes_predicted"][:len(indices)]), {}))
    return out


def median_ms(fn: Callable[[], Any], budget_s: float, min_runs: int = 5) -> float:
    """Median milliseconds of ``fn()``: at least ``min_runs`` runs, more within ``budget_s``."""
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < budget_s:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 500:
            break
    return 1000 * statistics.median(times)


def send(fig: Any) -> str:
    """What st.plotly_chart does with a go.Figure (streamlit/elements/plotly_chart.py)."""
    return pio.to_json(plotly.tools.return_figure_from_figure_or_data(fig, True), validate=False)


def decoded(value: Any) -> Any:
    """JSON with typed arrays ({"dtype", "bdata"[, "shape"]}) as nested lists, NaN as None."""
    if isinstance(value, dict):
        if set(value) in ({"dtype", "bdata"}, {"dtype", "bdata", "shape"}):
            array = np.frombuffer(base64.b64decode(value["bdata"]), np.dtype(value["dtype"]))
            if "shape" in value:
                array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
            return decoded(array.tolist())
        return {k: decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decoded(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """The first path where two JSON values differ, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key} only in {'new' if key in b else 'old'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {str(a)[:60]} vs {str(b)[:60]}"


def compare(old_json: str, new_json: str) -> str:
    old, new = json.loads(old_json), json.loads(new_json)
    if old == new:
        return "same"
    old, new = decoded(old), decoded(new)
    return "same*" if old == new else f"DIFF {first_difference(old, new)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="b5d1fb4",
                        help="git revision of the old builders (default: b5d1fb4)")
    parser.add_argument("--budget", type=float, default=0.4,
                        help="seconds of repeats per measurement (at least 5 runs)")
    args = parser.parse_args()
    old_modules = load_old(args.rev)
    header = (f"{'figure':<38} {'old build':>9} {'new build':>9} {'ratio':>6}   "
              f"{'old send':>8} {'new send':>8} {'ratio':>6}   {'total old/new':>13}  JSON")
    print(f"build and send, median ms; old = {args.rev}, new = working tree\n{header}")
    print("-" * len(header))
    totals = {"old": 0.0, "new": 0.0, "old_send": 0.0, "new_send": 0.0}
    digits = dict(totals)
    for label, page, name, fargs, kwargs in cases():
        old_fn = getattr(old_modules[page], name, None)
        new_fn = getattr(NEW[page], name)
        if old_fn is None:  # a builder the old revision did not have: new figures only, and
            # left out of the totals, which compare the same figures
            fig = new_fn(*fargs, **kwargs)
            new_ms = median_ms(partial(new_fn, *fargs, **kwargs), args.budget)
            new_send = median_ms(partial(send, fig), args.budget)
            print(f"{label:<38} {'–':>9} {new_ms:9.2f} {'':>6}   {'–':>8} {new_send:8.2f} "
                  f"{'':>6}   {'–':>6}/{new_ms + new_send:6.1f}  new only")
            continue
        old_fig, new_fig = old_fn(*fargs, **kwargs), new_fn(*fargs, **kwargs)
        same = compare(send(old_fig), send(new_fig))
        old_ms = median_ms(partial(old_fn, *fargs, **kwargs), args.budget)
        new_ms = median_ms(partial(new_fn, *fargs, **kwargs), args.budget)
        old_send = median_ms(partial(send, old_fig), args.budget)
        new_send = median_ms(partial(send, new_fig), args.budget)
        for sums in (totals, digits) if page == "digits" else (totals,):
            sums["old"] += old_ms
            sums["new"] += new_ms
            sums["old_send"] += old_send
            sums["new_send"] += new_send
        print(f"{label:<38} {old_ms:9.2f} {new_ms:9.2f} {old_ms / new_ms:6.1f}   "
              f"{old_send:8.2f} {new_send:8.2f} {old_send / new_send:6.1f}   "
              f"{old_ms + old_send:6.1f}/{new_ms + new_send:6.1f}  {same}")
    print("-" * len(header))
    for label, sums in (("digits page, figures in both", digits), ("all in both", totals)):
        print(f"{label:<38} {sums['old']:9.2f} {sums['new']:9.2f} "
              f"{sums['old'] / sums['new']:6.1f}   {sums['old_send']:8.2f} "
              f"{sums['new_send']:8.2f} {sums['old_send'] / sums['new_send']:6.1f}   "
              f"{sums['old'] + sums['old_send']:6.1f}/{sums['new'] + sums['new_send']:6.1f}")
    engines(args.budget)


def engines(budget: float) -> None:
    """plotly's JSON engines on the new figures: the standard library's json (what plotly used
    before orjson was installed) against orjson (its default once installed), same JSON?"""
    print(f"\nsend with plotly's json engine vs orjson (now the default: "
          f"{pio.json.config.default_engine!r}), median ms")
    total = {"json": 0.0, "orjson": 0.0}
    for label, page, name, fargs, kwargs in cases():
        fig = plotly.tools.return_figure_from_figure_or_data(
            getattr(NEW[page], name)(*fargs, **kwargs), True)
        ms = {e: median_ms(partial(pio.to_json, fig, validate=False, engine=e), budget)
              for e in total}
        same = json.loads(pio.to_json(fig, engine="json")) == json.loads(
            pio.to_json(fig, engine="orjson"))
        for e in total:
            total[e] += ms[e]
        print(f"{label:<38} {ms['json']:8.2f} {ms['orjson']:8.2f} "
              f"{ms['json'] / ms['orjson']:6.1f}  {'same' if same else 'DIFF'}")
    print(f"{'all':<38} {total['json']:8.2f} {total['orjson']:8.2f} "
          f"{total['json'] / total['orjson']:6.1f}")


if __name__ == "__main__":
    main()
