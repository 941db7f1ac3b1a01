"""Training speed: the background worker (JobRegistry) beside a plain ``model.fit`` script.

    .venv/bin/python benchmarks/bench_training.py [--images 10000] [--epochs 2] [--rounds 2]

Both train lesson 003's cnn_34826 with its batch size (1000) on the same first ``--images``
training digits (the last 10% held out for validation, as the worker does). Both rates are
trained images per second over the ``model.fit`` call alone (graph tracing and validation
included, process start-up, imports and data loading excluded): the worker measures its own fit
and writes ``images_per_second`` into result.json. Goal: the worker within 5% of plain fit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from nn_core.defaults import SEED  # noqa: E402
from nn_core.jobs import JobRegistry  # noqa: E402
from nn_core.models import PRESETS, ModelSpec, with_recipe  # noqa: E402
from nn_core.training import VALIDATION_FRACTION, load_run  # noqa: E402


def background_rate(spec: ModelSpec, images: int) -> float:
    """Images/s of one job through JobRegistry and a spawned worker (fresh runs dir)."""
    with tempfile.TemporaryDirectory() as runs:
        registry = JobRegistry(runs_dir=runs, max_concurrent=1)
        try:
            job = registry.start(spec, train_limit=images)
            while (status := registry.status(job)).state in ("queued", "running"):
                time.sleep(0.1)
            if status.state != "done":
                raise RuntimeError(f"background job {status.state}: {status.error}")
            return float(load_run(status.run_dir).result["images_per_second"])
        finally:
            registry.shutdown()


def plain_fit(spec: ModelSpec, images: int) -> float:
    """Images/s of a plain ``model.fit`` (this process), same split and recipe as the worker."""
    import keras
    import numpy as np

    from nn_core.digits import load_mnist
    from nn_core.models import build_keras_model

    (x_train, y_train), _ = load_mnist()
    x = x_train[:images].astype(np.float32)[..., None] / 255
    y = y_train[:images].astype(np.int64)
    n_fit = images - max(1, round(images * VALIDATION_FRACTION))
    keras.utils.set_random_seed(SEED)
    model = build_keras_model(spec)
    start = time.perf_counter()
    model.fit(x[:n_fit], y[:n_fit], validation_data=(x[n_fit:], y[n_fit:]),
              batch_size=spec.recipe.batch_size, epochs=spec.recipe.epochs, verbose=0)
    return n_fit * spec.recipe.epochs / (time.perf_counter() - start)


def plain_rate(args: argparse.Namespace) -> float:
    """Run ``plain_fit`` as its own script in a fresh process, cold like the worker."""
    command = [sys.executable, __file__, "--plain", "--model", args.model,
               "--images", str(args.images), "--epochs", str(args.epochs)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    """Alternate plain and background runs; print every round and the median ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn_34826", choices=sorted(PRESETS))
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--plain", action="store_true", help="run one plain fit, print its rate")
    args = parser.parse_args()
    spec = with_recipe(PRESETS[args.model], epochs=args.epochs)
    if args.plain:
        print(plain_fit(spec, args.images))
        return
    print(f"{spec.name}: {args.images} images ({VALIDATION_FRACTION:.0%} held out), "
          f"batch {spec.recipe.batch_size}, {args.epochs} epochs, {args.rounds} rounds, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    plain, background, ratios = [], [], []
    for i in range(args.rounds):  # ABBA order, so a drift in the machine's load cancels out
        if i % 2:
            background.append(background_rate(spec, args.images))
            plain.append(plain_rate(args))
        else:
            plain.append(plain_rate(args))
            background.append(background_rate(spec, args.images))
        ratios.append(background[-1] / plain[-1])
        print(f"round {i + 1}: plain model.fit {plain[-1]:7.0f} img/s, background worker "
              f"{background[-1]:7.0f} img/s, ratio {ratios[-1]:.3f} "
              f"(load {os.getloadavg()[0]:.1f})", flush=True)
    p, b = statistics.median(plain), statistics.median(background)
    print(f"median: plain {p:.0f} img/s, background {b:.0f} img/s; median ratio "
          f"background/plain {statistics.median(ratios):.3f} (goal: within 5%)")

if __name__ == "__main__":
    main()
