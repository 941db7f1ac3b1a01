"""Canvas -> prediction + every feature map in NumPy, beside Keras, with the shipped default model.

    .venv/bin/python benchmarks/bench_inference.py [--drawings 200]

Each of 200 MNIST test digits is rendered as a 280×280 RGBA canvas (white ink on black, as the
page's canvas returns it), then timed one drawing at a time, as the page handles them:
  numpy         preprocess_canvas + forward_layers (all layers' outputs) + probabilities
  keras predict preprocess_canvas + model.predict(x, verbose=0)      (probabilities only)
  keras call    preprocess_canvas + model(x, training=False)           (probabilities only)
Prints the median (and 90th percentile) milliseconds of each and the ratios. Goal: numpy under
10 ms on 2 cores. OpenBLAS runs single-threaded here (OPENBLAS_NUM_THREADS=1 unless set): for
one drawing's small matrices a second thread gains nothing, and on a busy machine its hand-offs
cost 5-15 ms per call; run the web server the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from nn_core import course  # noqa: E402
from nn_core.cnn.digits import load_mnist, preprocess_canvas, render_on_canvas  # noqa: E402
from nn_core.cnn.numpy_forward import forward_layers  # noqa: E402
from nn_core.cnn.specs import ModelSpec  # noqa: E402
from nn_core.training.runs import DEFAULT_MODEL_DIR, load_weights_npz  # noqa: E402

GOAL_MS = 10.0


def timed_ms(fn: Callable[[np.ndarray], np.ndarray], items: list[np.ndarray],
             warmup: int = 5) -> tuple[float, float, list[np.ndarray]]:
    """Median and 90th-percentile ms of fn(item) over the items (after warm-up), and outputs."""
    for item in items[:warmup]:
        fn(item)
    times, outputs = [], []
    for item in items:
        start = time.perf_counter()
        outputs.append(fn(item))
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), float(np.percentile(times, 90)), outputs


def main() -> None:
    """Render the drawings, time the three paths, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=200)
    args = parser.parse_args()

    spec = ModelSpec.from_dict(json.loads((DEFAULT_MODEL_DIR / "spec.json").read_text()))
    weights = load_weights_npz(DEFAULT_MODEL_DIR / "weights.npz")
    _, (x_test, y_test) = load_mnist()
    picked = np.random.default_rng(course.SEED).choice(len(x_test), args.drawings, replace=False)
    canvases = [render_on_canvas(x_test[i]) for i in picked]

    def numpy_path(canvas: np.ndarray) -> np.ndarray:
        layers = forward_layers(spec, weights, preprocess_canvas(canvas)[None])
        return layers[-1].values[0]

    images = [preprocess_canvas(c) for c in canvases]
    prep = timed_ms(preprocess_canvas, canvases)
    forward = timed_ms(lambda im: forward_layers(spec, weights, im[None]), images)
    numpy_ms, numpy_p90, numpy_probs = timed_ms(numpy_path, canvases)

    import keras

    model = keras.saving.load_model(DEFAULT_MODEL_DIR / "model.keras")

    def keras_predict(canvas: np.ndarray) -> np.ndarray:
        return model.predict(preprocess_canvas(canvas)[None, ..., None], verbose=0)[0]

    def keras_call(canvas: np.ndarray) -> np.ndarray:
        return np.asarray(model(preprocess_canvas(canvas)[None, ..., None], training=False))[0]

    predict_ms, predict_p90, predict_probs = timed_ms(keras_predict, canvases)
    call_ms, call_p90, call_probs = timed_ms(keras_call, canvases)

    diff = max(np.abs(np.stack(numpy_probs) - np.stack(p)).max()
               for p in (predict_probs, call_probs))
    accuracy = (np.stack(numpy_probs).argmax(axis=1) == y_test[picked]).mean()
    verdict = "met" if numpy_ms < GOAL_MS else "NOT met"
    print(f"{args.drawings} drawings of 280x280 RGBA, model {spec.name} ({spec.title}), "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; median (p90) ms:")
    print(f"  numpy preprocess_canvas                     {prep[0]:7.2f} ({prep[1]:.2f})")
    print(f"  numpy forward_layers, all {len(spec.layers)} layers kept     "
          f"{forward[0]:7.2f} ({forward[1]:.2f})")
    print(f"  numpy canvas -> prediction + feature maps   {numpy_ms:7.2f} ({numpy_p90:.2f})"
          f"   goal < {GOAL_MS:g} ms: {verdict}")
    print(f"  keras model.predict (probabilities only)    {predict_ms:7.2f} ({predict_p90:.2f})"
          f"   {predict_ms / numpy_ms:5.1f}x numpy")
    print(f"  keras model(x) call (probabilities only)    {call_ms:7.2f} ({call_p90:.2f})"
          f"   {call_ms / numpy_ms:5.1f}x numpy")
    print(f"  accuracy on these drawings {accuracy:.3f}; "
          f"max |numpy - keras| probability {diff:.1e}")


if __name__ == "__main__":
    main()
