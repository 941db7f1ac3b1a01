"""Training runs as plain data: the run-directory layout and its tolerant NumPy readers.

A run directory (``default_runs_dir()/<run_dir_name>``, or the shipped ``DEFAULT_MODEL_DIR``)
holds spec.json, model.keras, weights.npz (``model.get_weights()`` as arr_0..), history.json
(rewritten after every epoch, so an unfinished run holds the epochs done so far), result.json
(written last: its presence marks a finished run) and checkpoints/epoch_XX.npz.
Everything here is NumPy/JSON only; the worker that writes runs is nn_core.training.worker.

Runs live on a disk that students share and that can fill up or be damaged, so every reader
here turns whatever it finds (truncated archives, half-written or hand-edited JSON) into a
``ValueError`` that names the file, and ``describe_run`` never raises at all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nn_core.cnn.specs import INPUT_SHAPE, ModelSpec, layer_shapes

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_DIR = REPO / "assets" / "models" / "default"  # the shipped network (a run folder)


def default_runs_dir() -> Path:
    """Where runs live: env NN_PLAYGROUND_RUNS (read on every call), else <repo>/runs."""
    return Path(os.environ.get("NN_PLAYGROUND_RUNS") or REPO / "runs")


MAX_MISTAKES = 200  # misclassified test indices kept in result.json
RUN_FILES = ("result.json", "model.keras", "weights.npz", "history.json")  # removal order
MAX_TRAIN_LIMIT = 60_000
MIN_TRAIN_LIMIT = 20  # leaves 18 training and 2 validation images
CHECKPOINT_RE = re.compile(r"epoch_(\d+)\.npz")


@dataclass(frozen=True)
class TrainedModel:
    """A finished run as NumPy/JSON: weights in ``model.get_weights()`` order, history, result."""

    spec: ModelSpec
    weights: list[np.ndarray]
    history: dict[str, list[float]]
    result: dict[str, Any]
    checkpoints: list[Path]
    run_dir: Path


@dataclass(frozen=True)
class RunSummary:
    """What the model list shows of one run folder, read without ever raising.

    ``error`` is None for a readable run; otherwise it is the reason (naming the damaged file)
    and ``label`` reads "unreadable: <reason>".
    """

    run_dir: Path
    spec: ModelSpec | None = None
    test_accuracy: float | None = None
    train_images: int | None = None
    epochs_run: int | None = None
    error: str | None = None

    @property
    def readable(self) -> bool:
        """True when ``load_run`` reads this folder without an error."""
        return self.error is None

    @property
    def label(self) -> str:
        """'<title> · 98.52% test accuracy', or 'unreadable: <reason>'."""
        if self.error is not None or self.spec is None:
            return f"unreadable: {self.error}"
        acc = f" · {self.test_accuracy:.2%} test accuracy" if self.test_accuracy is not None else ""
        return f"{self.spec.title}{acc}"


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


def _reason(exc: BaseException) -> str:
    """'Type: message' on one line, e.g. 'BadZipFile: File is not a zip file'."""
    text = " ".join(str(getattr(exc, "strerror", None) or exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_json(path: Path, default: Any = None) -> Any:
    """JSON file contents, ``default`` when the file is missing; ValueError naming the file when
    it cannot be read or is not JSON."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return default
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} could not be read ({_reason(exc)})") from exc
    try:
        return json.loads(text)
    except ValueError as exc:  # json.JSONDecodeError
        raise ValueError(f"{path} is not valid JSON ({exc})") from exc


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _type_name(value: Any) -> str:
    return type(value).__name__


def read_spec(path: Path) -> ModelSpec:
    """The network of a run's spec.json; ValueError naming the file if it is missing or bad."""
    data = read_json(path)
    if data is None:
        raise ValueError(f"{path.parent} is not a finished training run: spec.json is missing")
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a model spec: expected a JSON object, got "
                         f"{_type_name(data)}")
    try:
        spec = ModelSpec.from_dict(data)
        _check_spec_fields(spec)
        layer_shapes(spec)  # a network whose image shrinks to nothing is not a network
        spec.key()
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path} does not hold a valid model spec ({exc})") from exc
    return spec


def _check_spec_fields(spec: ModelSpec) -> None:
    """ValueError unless the layer sizes and the recipe have usable types (from_dict checks
    only the keys): a hand-edited ``"epochs": "ten"`` must not reach the registry."""
    for layer in spec.layers:
        if not (_is_count(layer.size) and _is_count(layer.kernel) and _is_number(layer.rate)
                and isinstance(layer.activation, str)):
            raise ValueError(f"bad {layer.kind} layer: {layer}")
    r = spec.recipe
    if not (_is_count(r.epochs) and r.epochs >= 1 and _is_count(r.batch_size)
            and r.batch_size >= 1 and _is_number(r.learning_rate)
            and isinstance(r.optimizer, str) and isinstance(r.loss, str)):
        raise ValueError(f"bad recipe: {r}")


def read_history(path: Path) -> dict[str, list[float]]:
    """A run's history.json: metric name -> one number per finished epoch ({} when missing)."""
    data = read_json(path, {})
    if not isinstance(data, dict):
        raise ValueError(f"{path} must map metric names to lists of numbers, got "
                         f"{_type_name(data)}")
    for key, values in data.items():
        if not isinstance(values, list) or not all(_is_number(v) for v in values):
            raise ValueError(f"{path}: {key!r} must be a list of numbers, got {values!r:.80}")
    return data


_RESULT_NUMBERS = ("test_loss", "seconds", "cpu_seconds", "images_per_second", "total_seconds")
_RESULT_COUNTS = ("train_images", "val_images", "epochs", "epochs_run", "batch_size",
                  "mistakes_total", "seed")


def read_result(path: Path) -> dict[str, Any]:
    """A run's result.json ({} when missing), with the fields the pages read checked:
    test_accuracy a number in [0, 1], counts whole numbers, confusion 10×10 whole numbers,
    mistakes lists of whole numbers. ValueError naming the file and the field otherwise."""
    data = read_json(path, {})
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object, got {_type_name(data)}")

    def bad(key: str, wanted: str) -> ValueError:
        return ValueError(f"{path}: {key} must be {wanted}, got {data[key]!r:.80}")

    acc = data.get("test_accuracy")
    if "test_accuracy" in data and not (_is_number(acc) and 0.0 <= acc <= 1.0):
        raise bad("test_accuracy", "a number between 0 and 1")
    for key in _RESULT_NUMBERS:
        if key in data and not _is_number(data[key]):
            raise bad(key, "a number")
    for key in _RESULT_COUNTS:
        if key in data and not _is_count(data[key]):
            raise bad(key, "a whole number >= 0")
    if "train_limit" in data and not (data["train_limit"] is None
                                      or _is_count(data["train_limit"])):
        raise bad("train_limit", "null or a whole number")
    confusion = data.get("confusion")
    if "confusion" in data and not (
            isinstance(confusion, list) and len(confusion) == 10
            and all(isinstance(row, list) and len(row) == 10 and all(map(_is_count, row))
                    for row in confusion)):
        raise bad("confusion", "10 lists of 10 whole numbers")
    for key in ("mistakes", "mistakes_predicted"):
        if key in data and not (isinstance(data[key], list) and all(map(_is_count, data[key]))):
            raise bad(key, "a list of whole numbers")
    if "training" in data and not isinstance(data["training"], dict):
        raise bad("training", "a JSON object")
    return data


def weight_shapes(spec: ModelSpec) -> list[tuple[int, ...]]:
    """Shapes of ``model.get_weights()`` for ``spec``, in layer order: (k, k, C, F), (F,) per
    conv layer, (inputs, units), (units,) per dense layer, four (C,) per batch norm."""
    shapes: list[tuple[int, ...]] = []
    for layer, shape in zip(spec.layers, [INPUT_SHAPE, *layer_shapes(spec)[:-1]], strict=True):
        shapes += layer.kind_info.weight_shapes(layer, shape)  # the one table of kinds
    return shapes


def load_weights_npz(path: str | Path, spec: ModelSpec | None = None) -> list[np.ndarray]:
    """Arrays arr_0..arr_k of an ``np.savez(path, *model.get_weights())`` file, in order:
    a run's weights.npz or one epoch's checkpoints/epoch_XX.npz.

    With ``spec``, the arrays must also have the shapes of ``weight_shapes(spec)``. A missing,
    truncated, empty or foreign file raises ValueError naming it (never BadZipFile, EOFError..).
    """
    path = Path(path)
    try:
        data = np.load(path)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single array, not an archive of arr_0..arr_k")
        with data:
            count = len(data.files)
            names = [f"arr_{i}" for i in range(count)]
            if sorted(data.files) != sorted(names):
                raise ValueError(f"expected arrays arr_0..arr_{count - 1}, found "
                                 f"{sorted(data.files)[:5]}")
            weights = [data[name] for name in names]
    except FileNotFoundError as exc:
        raise ValueError(f"{path} is missing") from exc
    except MemoryError:
        raise
    except Exception as exc:  # BadZipFile, EOFError, zlib.error, pickled data, CRC errors, ...
        raise ValueError(f"{path} is not a readable weights file ({_reason(exc)})") from exc
    for i, w in enumerate(weights):
        if not np.issubdtype(w.dtype, np.floating):
            raise ValueError(f"{path}: arr_{i} holds {w.dtype} values, not floating point weights")
    if spec is not None:
        wanted = weight_shapes(spec)
        if len(weights) != len(wanted):
            raise ValueError(f"{path} holds {len(weights)} arrays but the network in spec.json "
                             f"needs {len(wanted)}")
        for i, (w, shape) in enumerate(zip(weights, wanted, strict=True)):
            if w.shape != shape:
                raise ValueError(f"{path}: arr_{i} has shape {w.shape}, the network in "
                                 f"spec.json needs {shape}")
    return weights


def checkpoint_paths(run_dir: Path) -> list[Path]:
    """checkpoints/epoch_XX.npz of a run, in epoch order ([] when there are none)."""
    try:
        found = [p for p in (run_dir / "checkpoints").iterdir() if CHECKPOINT_RE.fullmatch(p.name)]
    except OSError:
        return []
    return sorted(found, key=lambda p: int(CHECKPOINT_RE.fullmatch(p.name).group(1)))


def load_run(run_dir: str | Path) -> TrainedModel:
    """Read a finished run directory (or assets/models/default/) without TensorFlow.

    Raises ValueError, naming the file and what is wrong with it, for a folder that is not a
    run or whose spec.json, weights.npz (truncated, empty, wrong arrays for the spec),
    history.json or result.json is damaged; never another exception type for a bad file.
    """
    run_dir = Path(run_dir)
    for name in ("spec.json", "weights.npz"):
        try:
            present = (run_dir / name).exists()
        except OSError:
            present = False
        if not present:
            raise ValueError(f"{run_dir} is not a finished training run: {name} is missing")
    spec = read_spec(run_dir / "spec.json")
    return TrainedModel(spec=spec, weights=load_weights_npz(run_dir / "weights.npz", spec),
                        history=read_history(run_dir / "history.json"),
                        result=read_result(run_dir / "result.json"),
                        checkpoints=checkpoint_paths(run_dir), run_dir=run_dir)


def describe_run(run_dir: str | Path) -> RunSummary:
    """The model list's view of a run folder; never raises.

    Reads the whole run (as ``load_run``, weights included, a few MB at most), so callers that
    redraw often should cache it by the folder's result.json mtime. A damaged run comes back
    with ``error`` set (``label`` = "unreadable: <reason>") instead of an exception.
    """
    run_dir = Path(run_dir)
    try:
        run = load_run(run_dir)
    except Exception as exc:  # never break the model list: a ValueError, or anything else
        reason = str(exc) if isinstance(exc, ValueError) else f"{run_dir}: {_reason(exc)}"
        return RunSummary(run_dir, error=" ".join(reason.split())[:400])
    result = run.result
    return RunSummary(run_dir, spec=run.spec, test_accuracy=result.get("test_accuracy"),
                      train_images=result.get("train_images"),
                      epochs_run=result.get("epochs_run", len(run.history.get("loss", [])) or None))


def finished_run(run_dir: Path, spec: ModelSpec) -> TrainedModel | None:
    """The run of ``spec`` in ``run_dir`` if it finished (has a test accuracy) and is readable,
    else None (missing, unfinished, damaged or another network's run)."""
    try:
        run = load_run(run_dir)
    except (OSError, ValueError):
        return None
    if "test_accuracy" not in run.result or run.spec.key() != spec.key():
        return None
    return run


def list_runs(runs_dir: str | Path | None = None) -> list[Path]:
    """Finished run directories under ``runs_dir`` (result.json and weights.npz present),
    oldest first by result.json mtime; never raises.

    Damaged runs are listed too (their files are present): show them with ``describe_run``.
    """
    runs_dir = Path(runs_dir) if runs_dir else default_runs_dir()
    dated = []
    try:
        if not runs_dir.is_dir():
            return []
        for result in runs_dir.glob("*/result.json"):
            try:
                if (result.parent / "weights.npz").exists():
                    dated.append((result.stat().st_mtime, result.parent))
            except OSError:  # removed meanwhile (e.g. by prune_runs) or unreadable
                continue
    except OSError:
        return []
    return [run for _, run in sorted(dated)]


def prune_runs(runs_dir: str | Path, keep: int, protected: Iterable[str | Path] = ()) -> list[Path]:
    """Delete the oldest finished runs of ``runs_dir`` beyond ``keep``; return those deleted.

    Age is result.json's mtime (``list_runs``' order). Runs in ``protected`` (the runs of active
    jobs, the runs students are viewing) count towards ``keep`` but are never deleted, nor is
    anything outside ``runs_dir`` (the shipped model lives in assets/). result.json goes first,
    so a run that cannot be fully removed is no longer listed as finished.
    """
    if not isinstance(keep, int) or keep < 0:
        raise ValueError(f"keep must be a whole number >= 0, got {keep!r}")
    runs_dir = Path(runs_dir)
    runs = list_runs(runs_dir)
    try:
        root = runs_dir.resolve()
        keepers = {Path(p).resolve() for p in protected} | {DEFAULT_MODEL_DIR.resolve()}
    except OSError:
        return []
    deleted: list[Path] = []
    for run in runs:  # oldest first
        if len(runs) - len(deleted) <= keep:
            break
        real = run.resolve()
        if real in keepers or real.parent != root:
            continue
        try:
            (run / "result.json").unlink(missing_ok=True)
            shutil.rmtree(run)
        except OSError:
            continue
        deleted.append(run)
    return deleted


def prepare_run_dir(run_dir: Path, spec: ModelSpec, keep_epochs: int = 0) -> None:
    """Empty a previous attempt's files and write spec.json first.

    ``keep_epochs`` > 0 (a resumed run) keeps checkpoints/epoch_01..epoch_<keep_epochs>.npz and
    the first ``keep_epochs`` entries of history.json, and removes the rest.
    """
    if keep_epochs <= 0:
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
        for name in RUN_FILES:
            (run_dir / name).unlink(missing_ok=True)
    else:
        for name in RUN_FILES[:3]:  # result.json first: the run is no longer finished
            (run_dir / name).unlink(missing_ok=True)
        for path in checkpoint_paths(run_dir):
            if int(CHECKPOINT_RE.fullmatch(path.name).group(1)) > keep_epochs:
                path.unlink(missing_ok=True)
        history = read_history(run_dir / "history.json")
        write_json(run_dir / "history.json", {k: v[:keep_epochs] for k, v in history.items()})
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "spec.json", spec.to_dict())


def resume_point(run_dir: Path, spec: ModelSpec) -> tuple[int, dict[str, list[float]]]:
    """(epochs done, their history) from which an unfinished run of ``spec`` can continue.

    The last epoch N whose checkpoints/epoch_N.npz reads back with the spec's weight shapes
    and whose history.json entries exist; (0, {}) when there is none (start over), e.g. the
    folder holds another network or the files are damaged. Never raises.
    """
    try:
        if read_spec(run_dir / "spec.json").key() != spec.key():
            return 0, {}
        history = read_history(run_dir / "history.json")
    except (OSError, ValueError):
        return 0, {}
    done = min((len(v) for v in history.values()), default=0)
    for path in reversed(checkpoint_paths(run_dir)):
        epoch = int(CHECKPOINT_RE.fullmatch(path.name).group(1))
        if not 1 <= epoch <= done:
            continue
        try:
            load_weights_npz(path, spec)
        except ValueError:
            continue
        return epoch, {k: v[:epoch] for k, v in history.items()}
    return 0, {}


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
