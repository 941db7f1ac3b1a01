"""Time to 99% test accuracy: issue 12's quick recipe beside lesson 004's, in the same run.

    .venv/bin/python benchmarks/bench_time_to_99.py [--rounds 1] [--ablations no_bn,constant_lr]

Each recipe trains as the page trains it: ``nn_core.training.worker`` in a process spawned the
way the job registry spawns it, on all 60,000 training images (the last 10% validate, so 54,000
are fitted), with a checkpoint at every epoch's end. The clock starts just before the spawn, so
Python and TensorFlow start-up, loading MNIST, building the model and the first batch's graph
tracing all count, and each epoch's time is when its "epoch" message (sent after validation and
the checkpoint) reaches this process. Afterwards every epoch's checkpoint is scored on the
10,000 test images with the NumPy forward pass (the one the page predicts with, held equal to
Keras by the tests), so scoring costs the training nothing. Time to 99% is the first epoch end
whose test accuracy is >= 99.0%; CPU-seconds (the worker's user + system time, all its threads,
read from /proc at the same moments) are printed too: on a shared machine they vary less with
the other processes than wall time does, though not nothing (TensorFlow's idle threads spin
while there is a core to spin on). Recipes alternate ABBA over rounds so that a drift in the
machine's load falls on both. Goal: quick <= 0.35 × lesson 004's time, and <= 30 s.

Ablations (each a variant of quick_99, trained once per round after the two recipes):
``no_bn`` without its batch norm; ``bn_after_pools`` with batch norms on both conv blocks'
feature maps (after each pooling, before the relu) instead of on the dense layer;
``lesson_net`` lesson 004's network (32-64-128 filters, no dense layer) with the quick recipe;
``constant_lr`` at its peak rate throughout instead of the warm-up and cosine; ``batch_N``
another batch size (same schedule over its steps); ``epochs_N`` another number of epochs;
``lr_X`` another peak learning rate; "+" combines them (``constant_lr+lr_0.001``: Adam's
default rate without a schedule).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import queue
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from nn_core.cnn.digits import load_mnist  # noqa: E402
from nn_core.cnn.numpy_forward import predict_proba  # noqa: E402
from nn_core.cnn.presets import PRESETS  # noqa: E402
from nn_core.cnn.specs import (  # noqa: E402
    FLATTEN,
    OUTPUT,
    ModelSpec,
    activation,
    batchnorm,
    conv,
    dense,
    pool,
    with_recipe,
)
from nn_core.training.runs import checkpoint_paths, load_weights_npz  # noqa: E402
from nn_core.training.worker import start_worker  # noqa: E402

TARGET = 0.99
QUICK, LESSON_004 = "quick_99", "cnn_104202"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Epoch:
    """One finished epoch: seconds and worker CPU-seconds since the spawn, test accuracy."""

    epoch: int
    seconds: float
    cpu_seconds: float
    test_accuracy: float = float("nan")


@dataclass
class Run:
    """One training job as the page runs it, timed from the spawn."""

    label: str
    spec: ModelSpec
    epochs: list[Epoch] = field(default_factory=list)
    begin_s: float = float("nan")  # TensorFlow imported, MNIST loaded, the model compiled
    first_batch_s: float = float("nan")
    done_s: float = float("nan")
    cpu_s: float = float("nan")
    load: float = float("nan")

    @property
    def to_target(self) -> Epoch | None:
        """The first epoch end at or above TARGET test accuracy (None: never reached)."""
        return next((e for e in self.epochs if e.test_accuracy >= TARGET), None)


def worker_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, all threads (fields 14-15 of /proc/pid/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / TICKS


def variant(name: str) -> tuple[str, ModelSpec]:
    """An ablation of the quick recipe by name (see the module docstring); "a+b" applies both."""
    spec = PRESETS[QUICK]
    for part in name.split("+"):
        if part == "no_bn":
            spec = replace(spec, layers=tuple(la for la in spec.layers if la.kind != "batchnorm"))
        elif part == "bn_after_pools":  # batch norms on the feature maps instead of the dense
            spec = replace(spec, layers=(
                conv(16, activation="linear"), pool(), batchnorm(), activation("relu"),
                conv(32, activation="linear"), pool(), batchnorm(), activation("relu"), FLATTEN,
                dense(128), OUTPUT))
        elif part == "lesson_net":  # lesson 004's network with the quick recipe
            spec = replace(spec, layers=PRESETS[LESSON_004].layers)
        elif part == "constant_lr":
            spec = with_recipe(spec, schedule="constant")
        elif part.startswith("batch_"):
            spec = with_recipe(spec, batch_size=int(part.removeprefix("batch_")))
        elif part.startswith("epochs_"):
            spec = with_recipe(spec, epochs=int(part.removeprefix("epochs_")))
        elif part.startswith("lr_"):
            spec = with_recipe(spec, learning_rate=float(part.removeprefix("lr_")))
        else:
            raise SystemExit(f"unknown ablation {part!r}: no_bn, bn_after_pools, lesson_net, "
                             "constant_lr, batch_N, epochs_N or lr_X")
    return name, spec


def train(label: str, spec: ModelSpec, runs: Path, test: tuple[np.ndarray, np.ndarray]) -> Run:
    """Spawn the worker on all 60,000 images, time its messages, then score its checkpoints."""
    run = Run(label, spec)
    run_dir = runs / f"{label}-{time.monotonic_ns()}"
    ctx = multiprocessing.get_context("spawn")
    messages, cancel = ctx.Queue(), ctx.Event()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = start_worker(ctx, f"bench-{label}", spec, run_dir, messages, cancel, None)
    while True:
        try:
            msg = messages.get(timeout=1.0)
        except queue.Empty:
            if not process.is_alive():
                died = f"{label}: the worker died (exit code {process.exitcode})"
                raise RuntimeError(died) from None
            continue
        now = time.perf_counter() - start
        if msg["type"] == "begin":
            run.begin_s = now
        elif msg["type"] == "batch" and math.isnan(run.first_batch_s):
            run.first_batch_s = now
        elif msg["type"] == "epoch":
            run.epochs.append(Epoch(msg["epoch"], now, worker_cpu_seconds(process.pid)))
        elif msg["type"] == "done":
            run.done_s = now
            break
        elif msg["type"] in ("failed", "cancelled"):
            raise RuntimeError(f"{label}: {msg}")
    run.load = os.getloadavg()[0]
    process.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.cpu_s = (children.ru_utime + children.ru_stime
                 - children_before.ru_utime - children_before.ru_stime)
    x_test, y_test = test
    for entry, path in zip(run.epochs, checkpoint_paths(run_dir), strict=True):
        probs = predict_proba(spec, load_weights_npz(path), x_test)
        entry.test_accuracy = float((probs.argmax(axis=1) == y_test).mean())
    return run


def report(run: Run) -> None:
    """One block per run: every epoch's time, CPU time and test accuracy."""
    reached = run.to_target
    head = (f"{run.label:<12} {run.spec.recipe.optimizer} lr {run.spec.recipe.learning_rate:g} "
            f"({run.spec.recipe.schedule}), batch {run.spec.recipe.batch_size}, "
            f"{run.spec.recipe.epochs} epochs: fit began at {run.begin_s:.1f} s, first batch "
            f"done at {run.first_batch_s:.1f} s; ")
    if reached:
        head += f"99% at {reached.seconds:.1f} s ({reached.cpu_seconds:.0f} CPU-s), "
    else:
        head += f"99% not reached (best {max(e.test_accuracy for e in run.epochs):.2%}), "
    print(head + f"job done at {run.done_s:.1f} s ({run.cpu_s:.0f} CPU-s), "
                 f"load average {run.load:.2f}")
    for e in run.epochs:
        print(f"    epoch {e.epoch}: {e.seconds:6.1f} s {e.cpu_seconds:6.1f} CPU-s  "
              f"test {e.test_accuracy:.2%}")
    sys.stdout.flush()


def median_or_none(values: list[float | None]) -> float | None:
    """The median of the values, None if any is None (a run that never reached 99%)."""
    return None if any(v is None for v in values) else statistics.median(values)


def main() -> None:
    """Train both recipes (ABBA over rounds) and the ablations; print times and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--ablations", default="", help="comma-separated, e.g. no_bn,batch_512")
    args = parser.parse_args()
    ablations = [variant(a) for a in args.ablations.split(",") if a]
    _, (x_test, y_test) = load_mnist()
    test = (x_test.astype(np.float32) / 255, y_test)
    print(f"{os.cpu_count()} CPUs, load average at start "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; all 60,000 training images "
          "(54,000 fitted, 6,000 validate), test accuracy of every epoch's checkpoint", flush=True)
    results: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory() as runs_dir:
        for i in range(args.rounds):
            order = [QUICK, LESSON_004] if i % 2 == 0 else [LESSON_004, QUICK]
            jobs = [(name, PRESETS[name]) for name in order] + ablations
            for label, spec in jobs:
                run = train(label, spec, Path(runs_dir), test)
                results.setdefault(label, []).append(run)
                report(run)
    print()
    t99 = {label: [r.to_target.seconds if r.to_target else None for r in rs]
           for label, rs in results.items()}
    c99 = {label: [r.to_target.cpu_seconds if r.to_target else None for r in rs]
           for label, rs in results.items()}
    for label, runs in results.items():
        t, c = median_or_none(t99[label]), median_or_none(c99[label])
        accuracy = statistics.median(r.epochs[-1].test_accuracy for r in runs)
        reached = f"{t:5.1f} s ({c:4.0f} CPU-s)" if t is not None else "not reached"
        print(f"{label:<12} time to 99% {reached}; final test accuracy {accuracy:.2%}; "
              f"job {statistics.median(r.done_s for r in runs):5.1f} s")
    quick, lesson = median_or_none(t99[QUICK]), median_or_none(t99[LESSON_004])
    if quick is not None and lesson is not None:
        cpu_ratio = median_or_none(c99[QUICK]) / median_or_none(c99[LESSON_004])
        print(f"ratio {QUICK} / {LESSON_004}: {quick / lesson:.3f} wall, {cpu_ratio:.3f} CPU "
              f"(goal <= 0.35); {QUICK} at 99% after {quick:.1f} s (goal <= 30 s)")


if __name__ == "__main__":
    main()
