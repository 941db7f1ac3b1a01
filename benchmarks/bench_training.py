"""Training speed: the background worker (JobRegistry) beside a plain ``model.fit`` script.

    .venv/bin/python benchmarks/bench_training.py [--images 10000] [--epochs 2] [--rounds 4]

Both train lesson 003's cnn_34826 with its batch size (1000) on the same first ``--images``
training digits (the last 10% held out for validation, as the worker does), each in a fresh
process. Rates are trained images per second over the ``model.fit`` call alone (graph tracing and
validation included; process start-up, imports and data loading excluded): the worker measures
its own fit and writes ``images_per_second`` (and ``cpu_seconds``) into result.json. Images per
CPU-second is printed too: on a shared machine it is far less sensitive to other processes' load
than wall-clock time. Goal: the worker within 5% of plain fit.
"""

from __future__ import annotations

import argparse
import json
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

from nn_core.cnn.presets import PRESETS  # noqa: E402
from nn_core.cnn.specs import (  # noqa: E402
    VALIDATION_FRACTION,
    ModelSpec,
    fit_images,
    with_recipe,
)
from nn_core.course import SEED  # noqa: E402
from nn_core.training.jobs import JobRegistry  # noqa: E402
from nn_core.training.runs import load_run  # noqa: E402

Rates = tuple[float, float]  # (images per wall-clock second, images per CPU-second)


def background_rates(spec: ModelSpec, images: int) -> Rates:
    """One job through JobRegistry and a spawned worker (fresh runs dir, so no reuse)."""
    with tempfile.TemporaryDirectory() as runs:
        registry = JobRegistry(runs_dir=runs, max_concurrent=1)
        try:
            job = registry.start(spec, train_limit=images)
            while (status := registry.status(job)).state in ("queued", "running"):
                time.sleep(0.1)
            if status.state != "done":
                raise RuntimeError(f"background job {status.state}: {status.error}")
            result = load_run(status.run_dir).result
        finally:
            registry.shutdown()
    trained = result["train_images"] * result["epochs_run"]
    return result["images_per_second"], trained / result["cpu_seconds"]


def plain_fit(spec: ModelSpec, images: int) -> Rates:
    """A plain ``model.fit`` in this process, same split and recipe as the worker."""
    import keras
    import numpy as np

    from nn_core.cnn.digits import load_mnist
    from nn_core.cnn.keras_model import build_keras_model

    (x_train, y_train), _ = load_mnist()
    x = x_train[:images].astype(np.float32)[..., None] / 255
    y = y_train[:images].astype(np.int64)
    n_fit = fit_images(images)
    keras.utils.set_random_seed(SEED)
    model = build_keras_model(spec)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(x[:n_fit], y[:n_fit], validation_data=(x[n_fit:], y[n_fit:]),
              batch_size=spec.recipe.batch_size, epochs=spec.recipe.epochs, verbose=0)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return n_fit * spec.recipe.epochs / wall, n_fit * spec.recipe.epochs / cpu


def plain_rates(args: argparse.Namespace) -> Rates:
    """Run ``plain_fit`` as its own script in a fresh process, cold like the worker."""
    command = [sys.executable, __file__, "--plain", "--model", args.model,
               "--images", str(args.images), "--epochs", str(args.epochs)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Alternate plain and background runs (ABBA); print every round and the median ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn_34826", choices=sorted(PRESETS))
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--plain", action="store_true", help="one plain fit; print its rates")
    args = parser.parse_args()
    spec = with_recipe(PRESETS[args.model], epochs=args.epochs)
    if args.plain:
        print(json.dumps(plain_fit(spec, args.images)))
        return
    print(f"{spec.name}: {args.images} images ({VALIDATION_FRACTION:.0%} held out), "
          f"batch {spec.recipe.batch_size}, {args.epochs} epochs, {os.cpu_count()} CPUs")
    plain: list[Rates] = []
    background: list[Rates] = []
    for i in range(args.rounds):  # ABBA order, so a drift in the machine's load cancels out
        if i % 2:
            background.append(background_rates(spec, args.images))
            plain.append(plain_rates(args))
        else:
            plain.append(plain_rates(args))
            background.append(background_rates(spec, args.images))
        (pw, pc), (bw, bc) = plain[-1], background[-1]
        print(f"round {i + 1}: plain {pw:6.0f} img/s ({pc:5.0f}/CPU-s), background {bw:6.0f} "
              f"img/s ({bc:5.0f}/CPU-s), load average {os.getloadavg()[0]:.1f}", flush=True)
    for label, k in (("wall-clock", 0), ("CPU-time", 1)):
        p = statistics.median(r[k] for r in plain)
        b = statistics.median(r[k] for r in background)
        ratio = statistics.median(bg[k] / pl[k] for bg, pl in zip(background, plain, strict=True))
        print(f"{label:>10}: plain {p:6.0f}, background {b:6.0f} images/s; median ratio "
              f"background/plain {ratio:.3f} (goal: >= 0.95)")


if __name__ == "__main__":
    main()
