"""One damaged run on disk never breaks the page: every kind of damage is a ValueError naming
the file, ``describe_run`` marks it "unreadable", and the listing and the registry go on."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from nn_core.training.jobs import JobRegistry
from nn_core.training.runs import (
    DEFAULT_MODEL_DIR,
    describe_run,
    finished_run,
    list_runs,
    load_run,
    load_weights_npz,
    run_dir_name,
)
from tests.nn_core.training.helpers import TINY, fake_run


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _drop_last_array(path: Path) -> None:
    with np.load(path) as data:
        arrays = [data[f"arr_{i}"] for i in range(len(data.files))]
    np.savez(path, *arrays[:-1])


def _wrong_shape(path: Path) -> None:
    with np.load(path) as data:
        arrays = [data[f"arr_{i}"] for i in range(len(data.files))]
    arrays[0] = np.zeros((5, 5, 1, 4), np.float32)
    np.savez(path, *arrays)


def _single_array(path: Path) -> None:
    with open(path, "wb") as f:
        np.save(f, np.zeros(3, np.float32))


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _spec_field(path: Path) -> None:
    spec = json.loads(path.read_text())
    spec["recipe"]["epochs"] = "ten"
    path.write_text(json.dumps(spec))


DAMAGE: dict[str, tuple[str, Callable[[Path], None], str]] = {
    # name: (file, how it is damaged, what the message says)
    "weights truncated": ("weights.npz", _truncate, "BadZipFile"),
    "weights empty": ("weights.npz", lambda p: p.write_bytes(b""), "EOFError"),
    "weights not numpy": ("weights.npz", lambda p: p.write_text("hello"), "not a readable"),
    "weights one array": ("weights.npz", _single_array, "single array"),
    "weights too few arrays": ("weights.npz", _drop_last_array, "holds 5 arrays"),
    "weights wrong shape": ("weights.npz", _wrong_shape, "has shape (5, 5, 1, 4)"),
    "weights a folder": ("weights.npz", _directory, "not a readable weights file"),
    "spec not json": ("spec.json", lambda p: p.write_text('{"name": '), "not valid JSON"),
    "spec a list": ("spec.json", lambda p: p.write_text("[1, 2]"), "got list"),
    "spec no layers": ("spec.json", lambda p: p.write_text('{"name": "x"}'), "valid model spec"),
    "spec bad epochs": ("spec.json", _spec_field, "valid model spec"),
    "spec missing": ("spec.json", Path.unlink, "spec.json is missing"),
    "result a list": ("result.json", lambda p: p.write_text("[1, 2, 3]"), "got list"),
    "result accuracy text": ("result.json", lambda p: p.write_text('{"test_accuracy": "high"}'),
                             "test_accuracy must be a number between 0 and 1"),
    "result not json": ("result.json", lambda p: p.write_text('{"test_acc'), "not valid JSON"),
    "result confusion": ("result.json", lambda p: p.write_text('{"confusion": [[1]]}'),
                         "confusion must be 10 lists"),
    "history a list": ("history.json", lambda p: p.write_text("[1]"), "got list"),
    "history text values": ("history.json", lambda p: p.write_text('{"loss": "x"}'),
                            "'loss' must be a list of numbers"),
    "history not utf-8": ("history.json", lambda p: p.write_bytes(b"\xff\xfe\x00"),
                          "could not be read"),
}


@pytest.mark.parametrize("kind", DAMAGE)
def test_each_kind_of_damage_is_one_clear_value_error(tmp_path: Path, kind: str) -> None:
    name, damage, says = DAMAGE[kind]
    runs = tmp_path / "runs"
    good = fake_run(runs / "good", mtime=1_000_000)
    bad = fake_run(runs / run_dir_name(TINY, 300), mtime=2_000_000)
    damage(bad / name)

    with pytest.raises(ValueError) as raised:  # never BadZipFile, EOFError, KeyError, ...
        load_run(bad)
    message = str(raised.value)
    assert name in message and says in message, message
    assert "\n" not in message and len(message) < 500

    summary = describe_run(bad)
    assert not summary.readable and summary.label == f"unreadable: {message}"
    assert describe_run(good).readable and describe_run(good).label.endswith(
        "50.00% test accuracy")
    assert finished_run(bad, TINY) is None
    listed = list_runs(runs)  # the damaged run is still listed (to be shown as unreadable)
    assert listed[0] == good and set(listed) <= {good, bad}


def test_the_registry_and_a_new_attempt_get_past_a_damaged_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    bad = fake_run(runs / run_dir_name(TINY, 300))
    _truncate(bad / "weights.npz")
    good = fake_run(runs / run_dir_name(TINY, 200))
    registry = JobRegistry(runs_dir=runs, max_concurrent=1)
    try:
        registry.max_concurrent = 0  # keep the new attempt queued: no worker needed here
        retrain = registry.status(registry.start(TINY, 300))
        assert retrain.state == "queued"  # the damaged run is not shown as done
        shown = registry.status(registry.start(TINY, 200))
        assert shown.state == "done" and shown.test_accuracy == 0.5 and shown.run_dir == good
        assert [s.state for s in registry.jobs()] == ["queued", "done"]
    finally:
        registry.shutdown()


def test_damaged_checkpoint_and_missing_folder_are_value_errors(tmp_path: Path) -> None:
    run = fake_run(tmp_path / "run")
    checkpoint = run / "checkpoints" / "epoch_01.npz"
    _truncate(checkpoint)
    with pytest.raises(ValueError, match=r"epoch_01\.npz is not a readable weights file"):
        load_weights_npz(checkpoint)
    with pytest.raises(ValueError, match="is missing"):
        load_weights_npz(tmp_path / "nowhere.npz")
    assert load_run(run).checkpoints[0] == checkpoint  # listed; the page reads it on demand
    assert not describe_run(tmp_path / "nowhere").readable
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert list_runs(afile) == [] and list_runs(afile / "runs") == []
    assert not describe_run(afile / "run").readable


@pytest.mark.skipif(not (DEFAULT_MODEL_DIR / "result.json").exists(),
                    reason="the shipped default model is not trained yet")
def test_the_shipped_model_passes_the_strict_reader() -> None:
    summary = describe_run(DEFAULT_MODEL_DIR)
    assert summary.readable, summary.error
    assert summary.test_accuracy == load_run(DEFAULT_MODEL_DIR).result["test_accuracy"]
