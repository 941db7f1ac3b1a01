"""Canvas -> prediction + every feature map in NumPy, beside Keras, with the shipped default model.

    .venv/bin/python benchmarks/bench_inference.py [--drawings 200]

Each of 200 MNIST test digits is rendered as a 280×280 RGBA canvas (white ink on black, as the
page's canvas returns it), then timed one drawing at a time, as the page handles them:
  numpy         preprocess_canvas + forward_layers (all layers' outputs) + probabilities
  keras predict preprocess_canvas + model.predict(x, verbose=0)      (probabilities only)
  keras call    preprocess_canvas + model(x, training=False)           (probabilities only)
Prints the median milliseconds of each and the ratios. Goal: numpy under 10 ms on 2 cores.
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

from nn_core import defaults  # noqa: E402
from nn_core.digits import load_mnist, preprocess_canvas, render_on_canvas  # noqa: E402
from nn_core.models import ModelSpec, forward_layers, load_weights_npz  # noqa: E402

MODEL_DIR = ROOT / "assets" / "models" / "default"
GOAL_MS = 10.0


def median_ms(fn: Callable[[np.ndarray], np.ndarray], canvases: list[np.ndarray],
              warmup: int = 5) -> tuple[float, list[np.ndarray]]:
    """Median wall time of fn(canvas) over the canvases (after a few warm-up calls), and outputs."""
    for canvas in canvases[:warmup]:
        fn(canvas)
    times, outputs = [], []
    for canvas in canvases:
        start = time.perf_counter()
        outputs.append(fn(canvas))
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), outputs


def main() -> None:
    """Render the drawings, time the three paths, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=200)
    args = parser.parse_args()

    spec = ModelSpec.from_dict(json.loads((MODEL_DIR / "spec.json").read_text()))
    weights = load_weights_npz(MODEL_DIR / "weights.npz")
    _, (x_test, y_test) = load_mnist()
    picked = np.random.default_rng(defaults.SEED).choice(len(x_test), args.drawings, replace=False)
    canvases = [render_on_canvas(x_test[i]) for i in picked]

    def numpy_path(canvas: np.ndarray) -> np.ndarray:
        layers = forward_layers(spec, weights, preprocess_canvas(canvas)[None])
        return layers[-1].values[0]

    def preprocess_only(canvas: np.ndarray) -> np.ndarray:
        return preprocess_canvas(canvas)

    images = [preprocess_canvas(c) for c in canvases]
    forward_ms = 1000 * statistics.median(
        _timed(lambda im=im: forward_layers(spec, weights, im[None])) for im in images)
    numpy_ms, numpy_probs = median_ms(numpy_path, canvases)
    prep_ms, _ = median_ms(preprocess_only, canvases)

    import keras

    model = keras.saving.load_model(MODEL_DIR / "model.keras")

    def keras_predict(canvas: np.ndarray) -> np.ndarray:
        return model.predict(preprocess_canvas(canvas)[None, ..., None], verbose=0)[0]

    def keras_call(canvas: np.ndarray) -> np.ndarray:
        return np.asarray(model(preprocess_canvas(canvas)[None, ..., None], training=False))[0]

    predict_ms, predict_probs = median_ms(keras_predict, canvases)
    call_ms, call_probs = median_ms(keras_call, canvases)

    diff = max(np.abs(np.stack(numpy_probs) - np.stack(p)).max()
               for p in (predict_probs, call_probs))
    accuracy = (np.stack(numpy_probs).argmax(axis=1) == y_test[picked]).mean()
    print(f"{args.drawings} drawings of 280x280 RGBA, model {spec.name} ({spec.title})")
    print(f"  numpy: preprocess {prep_ms:.2f} ms + forward (all {len(spec.layers)} layers) "
          f"{forward_ms:.2f} ms")
    verdict = "met" if numpy_ms < GOAL_MS else "NOT met"
    print(f"  numpy, canvas -> prediction + feature maps: {numpy_ms:6.2f} ms   "
          f"(goal < {GOAL_MS:g} ms: {verdict})")
    print(f"  keras model.predict (probabilities only):  {predict_ms:6.2f} ms   "
          f"{predict_ms / numpy_ms:5.1f}x numpy")
    print(f"  keras model(x) call (probabilities only):  {call_ms:6.2f} ms   "
          f"{call_ms / numpy_ms:5.1f}x numpy")
    print(f"  accuracy on these drawings {accuracy:.3f}; "
          f"max |numpy - keras| probability {diff:.1e}")


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
