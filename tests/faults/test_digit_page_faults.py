"""Faults as a student meets them on the "Draw a digit" page (AppTest, the real registry): a runs
folder that cannot be written, a full queue, and a server restart in the middle of a training.

Every check is on what the page shows: a clear message, never a traceback, and a way on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core.cnn.presets import custom_spec
from nn_core.training.runs import run_dir_name, weight_shapes
from tests.support import (
    APP_TIMEOUT_S,
    DIGIT_PAGE,
    LONG_TRAINING_IMAGES,
    submit_tiny_training,
    texts,
    wait_for_training,
)
from ui.digits import state as digit_state

EPOCHS, DONE = 10, 3  # the interrupted job: 10 epochs, 3 of them finished before the restart
INTERRUPTED = custom_spec(conv_filters=(4,), dense_units=16, dropout_rate=0.0, epochs=EPOCHS,
                          batch_size=32)


def new_app() -> AppTest:
    """The page, run once."""
    at = AppTest.from_file(str(DIGIT_PAGE), default_timeout=APP_TIMEOUT_S)
    at.run()
    assert not at.exception
    return at


def interrupted_run(runs: Path) -> str:
    """What a server killed after epoch 3 of 10 leaves: the run folder with its checkpoints and
    history, and the journal saying "running"; returns the job id."""
    run_dir = runs / run_dir_name(INTERRUPTED, 1_000)
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "spec.json").write_text(json.dumps(INTERRUPTED.to_dict()))
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=s).astype(np.float32) for s in weight_shapes(INTERRUPTED)]
    for epoch in range(1, DONE + 1):
        np.savez(run_dir / "checkpoints" / f"epoch_{epoch:02d}.npz", *weights)
    history = {k: [0.5] * DONE for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
    (run_dir / "history.json").write_text(json.dumps(history))
    job_id = f"{run_dir.name}.1"
    journal = {"version": 1, "jobs": [{
        "job_id": job_id, "spec": INTERRUPTED.to_dict(), "train_limit": 1_000,
        "state": "running", "owners": 1, "epoch": DONE, "epochs": EPOCHS, "error": None}]}
    (runs / "jobs.json").write_text(json.dumps(journal))
    return job_id


RESTARTED = (f"The server restarted while this network was training (after epoch {DONE} of "
             f"{EPOCHS}).")


def test_an_unwritable_runs_folder_fails_the_job_clearly_and_a_retry_works(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    afile = tmp_path / "afile"  # the runs folder under a regular file: even root cannot write
    afile.write_text("not a folder")
    runs = afile / "runs"
    monkeypatch.setenv("NN_PLAYGROUND_RUNS", str(runs))
    try:
        at = new_app()
        assert not at.error  # the page works: the shipped model, the form
        submit_tiny_training(at)
        failed = at.session_state["digit_job_id"]
        errors = texts(at.error)
        assert "Training failed: could not create the run folder" in errors
        assert "Not a directory" in errors
        assert "**failed**" in texts(at.markdown)

        afile.unlink()  # the volume is back: the same settings start a new attempt
        at.button(key="digit_train_submit").click().run()
        assert not at.exception
        retry = at.session_state["digit_job_id"]
        assert retry != failed
        wait_for_training(at, "the retried training")
        assert any(label.startswith("Custom CNN: conv 4")
                   for label in at.selectbox(key="digit_model__w").options)
    finally:
        digit_state.registry(str(runs)).shutdown()


def test_a_full_queue_says_the_server_is_busy(runs, monkeypatch) -> None:
    monkeypatch.setenv("NN_PLAYGROUND_MAX_QUEUE", "1")
    monkeypatch.setenv("NN_PLAYGROUND_MAX_JOBS", "1")
    first, second, third = new_app(), new_app(), new_app()
    submit_tiny_training(first, images=LONG_TRAINING_IMAGES)  # trains
    assert "**running**" in texts(first.markdown)
    submit_tiny_training(second, "lenet")  # waits
    assert "Waiting in the queue: position 1" in texts(second.info)
    submit_tiny_training(third, "cnn_34826")  # refused
    assert not third.exception
    assert ("The server is busy: 1 training is waiting. Try again in a few minutes."
            in texts(third.error))
    assert third.session_state["digit_job_id"] is None
    first.button(key="digit_cancel").click().run()  # a slot frees: the second job runs
    digit_state.registry(str(runs)).max_concurrent = 0  # (and no new worker for this test)
    second.button(key="digit_cancel").click().run()
    third.button(key="digit_train_submit").click().run()  # room again: it is taken
    assert not third.error
    assert "**queued**" in texts(third.markdown)


def test_after_a_restart_any_student_can_resume_an_interrupted_training(runs) -> None:
    job_id = interrupted_run(runs)
    at = new_app()  # a new browser session after the restart: it remembers no job
    assert "No training started from this browser session yet." in texts(at.caption)
    assert f"{INTERRUPTED.title}, 1,000 training images: {RESTARTED}" in texts(at.warning)
    resume = at.button(key=f"digit_resume_{job_id}")
    assert resume.label == "Resume"
    digit_state.registry(str(runs)).max_concurrent = 0  # it waits in the queue: no worker
    resume.click().run()
    assert not at.exception and not at.error
    assert at.session_state["digit_job_id"] == job_id
    assert (f"Resumed: {INTERRUPTED.title} continues after epoch {DONE} of {EPOCHS}."
            in texts(at.success))
    assert "**queued**" in texts(at.markdown)
    assert f"Epoch {DONE}/{EPOCHS} (waiting)" in [p.proto.text for p in at.get("progress")]
    assert not [b for b in at.button if b.key == f"digit_resume_{job_id}"]
    assert "Cancel training" in [b.label for b in at.button]


def test_the_sessions_own_job_interrupted_by_a_restart_offers_resume_and_dismiss(runs) -> None:
    job_id = interrupted_run(runs)
    at = AppTest.from_file(str(DIGIT_PAGE), default_timeout=APP_TIMEOUT_S)
    at.session_state["digit_job_id"] = job_id  # a session that outlived its registry
    at.run()
    assert not at.exception
    assert RESTARTED in texts(at.warning)
    assert [b.label for b in at.button if b.key in ("digit_resume", "digit_dismiss")] == [
        "Resume", "Dismiss"]
    assert not [b for b in at.button if b.key == f"digit_resume_{job_id}"]  # not twice
    digit_state.registry(str(runs)).max_concurrent = 0
    at.button(key="digit_resume").click().run()
    assert not at.exception and not at.error
    assert "**queued**" in texts(at.markdown)
    assert f"continues after epoch {DONE} of {EPOCHS}" in texts(at.success)


def test_a_restart_of_the_registry_interrupts_a_pages_job_and_dismiss_forgets_it(runs) -> None:
    jobs = digit_state.registry(str(runs))
    jobs.max_concurrent = 0  # the job waits in the queue when the server goes down
    at = new_app()
    submit_tiny_training(at)
    job_id = at.session_state["digit_job_id"]
    assert "**queued**" in texts(at.markdown)
    jobs.shutdown(interrupt=True)  # the server stops; Streamlit starts a new registry
    digit_state.registry.clear()
    at.run()
    assert not at.exception
    assert digit_state.registry(str(runs)) is not jobs
    assert ("The server restarted while this network was waiting in the queue."
            in texts(at.warning))
    at.button(key="digit_dismiss").click().run()
    assert not at.exception
    assert at.session_state["digit_job_id"] is None
    assert "No training started from this browser session yet." in texts(at.caption)
    assert digit_state.registry(str(runs)).status(job_id).state == "cancelled"
    assert not (runs / "jobs.json").exists()  # nothing left to resume
