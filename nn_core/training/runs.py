"""Training runs as plain data: the run-directory layout and its NumPy readers.

A run directory (``default_runs_dir()/<run_dir_name>``, or the shipped ``DEFAULT_MODEL_DIR``)
holds spec.json, model.keras, weights.npz (``model.get_weights()`` as arr_0..), history.json,
result.json (written last: its presence marks a finished run) and checkpoints/epoch_XX.npz.
Everything here is NumPy/JSON only; the worker that writes runs is nn_core.training.worker.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nn_core.cnn.specs import ModelSpec

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_DIR = REPO / "assets" / "models" / "default"  # the shipped network (a run folder)


def default_runs_dir() -> Path:
    """Where runs live: env NN_PLAYGROUND_RUNS (read on every call), else <repo>/runs."""
    return Path(os.environ.get("NN_PLAYGROUND_RUNS") or REPO / "runs")


MAX_MISTAKES = 200  # misclassified test indices kept in result.json
RUN_FILES = ("result.json", "model.keras", "weights.npz", "history.json")  # removal order
MAX_TRAIN_LIMIT = 60_000
MIN_TRAIN_LIMIT = 20  # leaves 18 training and 2 validation images


@dataclass(frozen=True)
class TrainedModel:
    """A finished run as NumPy/JSON: weights in ``model.get_weights()`` order, history, result."""

    spec: ModelSpec
    weights: list[np.ndarray]
    history: dict[str, list[float]]
    result: dict[str, Any]
    checkpoints: list[Path]
    run_dir: Path


def check_train_limit(train_limit: int | None) -> int | None:
    """A run's limit on training images: None (all) or 20..59,999; ValueError otherwise."""
    if train_limit is None:
        return None
    if not hasattr(train_limit, "__index__") or not (
            MIN_TRAIN_LIMIT <= train_limit <= MAX_TRAIN_LIMIT):
        raise ValueError(f"train_limit must be None or a whole number between "
                         f"{MIN_TRAIN_LIMIT} and {MAX_TRAIN_LIMIT}, got {train_limit!r}")
    return None if train_limit == MAX_TRAIN_LIMIT else int(train_limit)  # 60,000 is all


def run_dir_name(spec: ModelSpec, train_limit: int | None) -> str:
    """Directory of a spec + limit under the runs dir, e.g. 'cnn_34826-1a2b3c4d-all'."""
    return f"{spec.name}-{spec.key()[:8]}-{train_limit or 'all'}"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (readers never see half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def _read_json(path: Path, default: Any = None) -> Any:
    """JSON file contents, or ``default`` when the file is missing."""
    return json.loads(path.read_text()) if path.exists() else default


def prepare_run_dir(run_dir: Path, spec: ModelSpec) -> None:
    """Empty a previous attempt's files and write spec.json first."""
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "spec.json", spec.to_dict())


def load_run(run_dir: str | Path) -> TrainedModel:
    """Read a finished run directory (or assets/models/default/) without TensorFlow."""
    run_dir = Path(run_dir)
    for name in ("spec.json", "weights.npz"):
        if not (run_dir / name).exists():
            raise ValueError(f"{run_dir} is not a finished training run: {name} is missing")
    return TrainedModel(spec=ModelSpec.from_dict(_read_json(run_dir / "spec.json")),
                        weights=load_weights_npz(run_dir / "weights.npz"),
                        history=_read_json(run_dir / "history.json", {}),
                        result=_read_json(run_dir / "result.json", {}),
                        checkpoints=sorted((run_dir / "checkpoints").glob("epoch_*.npz")),
                        run_dir=run_dir)


def finished_run(run_dir: Path, spec: ModelSpec) -> TrainedModel | None:
    """The run of ``spec`` in ``run_dir`` if it finished (has a test accuracy), else None."""
    try:
        run = load_run(run_dir)
    except (OSError, ValueError):
        return None
    if "test_accuracy" not in run.result or run.spec.key() != spec.key():
        return None
    return run


def load_weights_npz(path: str | Path) -> list[np.ndarray]:
    """Arrays arr_0..arr_k of an ``np.savez(path, *model.get_weights())`` file, in order:
    a run's weights.npz or one epoch's checkpoints/epoch_XX.npz."""
    with np.load(Path(path)) as data:
        count = len(data.files)
        try:
            return [data[f"arr_{i}"] for i in range(count)]
        except KeyError as exc:
            raise ValueError(f"{path}: expected arrays arr_0..arr_{count - 1}") from exc


def list_runs(runs_dir: str | Path | None = None) -> list[Path]:
    """Finished run directories under ``runs_dir`` (result.json present), oldest first."""
    runs_dir = Path(runs_dir) if runs_dir else default_runs_dir()
    if not runs_dir.is_dir():
        return []
    done = [p.parent for p in runs_dir.glob("*/result.json") if (p.parent / "weights.npz").exists()]
    return sorted(done, key=lambda d: (d / "result.json").stat().st_mtime)


def score_predictions(probs: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy, 10x10 confusion (rows true, columns predicted) and mistakes from probs (N, 10)."""
    predicted = np.asarray(probs).argmax(axis=1)
    labels = np.asarray(labels).astype(int)
    confusion = np.zeros((10, 10), int)
    np.add.at(confusion, (labels, predicted), 1)
    wrong = np.nonzero(predicted != labels)[0]
    return {"test_accuracy": float((predicted == labels).mean()), "confusion": confusion.tolist(),
            "mistakes": wrong[:MAX_MISTAKES].tolist(),
            "mistakes_predicted": predicted[wrong[:MAX_MISTAKES]].tolist(),
            "mistakes_total": int(wrong.size)}
