"""A server restart in the middle of a training: the next registry on the same runs folder shows
the job as interrupted (from jobs.json) and resumes it from its last epoch checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nn_core.cnn.presets import custom_spec
from nn_core.training.jobs import JobRegistry
from nn_core.training.runs import load_run, run_dir_name
from tests.nn_core.training.helpers import TINY, finished, wait_for

EPOCHS = 4
SPEC = custom_spec(conv_filters=(4,), dense_units=16, dropout_rate=0.0, epochs=EPOCHS,
                   batch_size=32)


def test_a_job_running_at_a_restart_is_interrupted_and_resumes_from_its_checkpoint(
        tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = JobRegistry(runs_dir=runs, max_concurrent=1)
    try:
        job = first.start(SPEC, 3000, owner="session")
        wait_for(first, job, lambda s: len(s.history.get("loss", [])) >= 1)
    finally:
        first.shutdown(interrupt=True)  # the server stops: workers die, the journal stays
    stopped = first.status(job)
    assert stopped.state == "interrupted" and stopped.error.startswith("The server stopped")
    journal = json.loads((runs / "jobs.json").read_text())["jobs"]
    assert [(e["job_id"], e["state"], e["owners"]) for e in journal] == [(job, "running", 1)]
    second = JobRegistry(runs_dir=runs, max_concurrent=1)
    try:
        shown = second.status(job)
        epoch = shown.epoch  # from the checkpoints: the journal may be one epoch behind
        assert 1 <= journal[0]["epoch"] <= epoch < EPOCHS, "the job ended before it was stopped"
        assert (shown.state, shown.pid) == ("interrupted", None)
        assert shown.error == (f"The server restarted while this network was training "
                               f"(after epoch {epoch} of {EPOCHS}).")
        assert [len(v) for v in shown.history.values()] == [epoch] * 4
        assert [s.job_id for s in second.jobs()] == [job]
        other = second.start(TINY, 300)
        second.cancel(other)
        with pytest.raises(ValueError, match=f"can be resumed; {other} is cancelled"):
            second.resume(other)

        assert second.resume(job, owner="session") == job
        queued = second.status(job)
        assert queued.state in ("queued", "running") and queued.initial_epoch == epoch
        done = wait_for(second, job, finished)
        assert (done.state, done.error, done.epoch, done.initial_epoch) == (
            "done", None, EPOCHS, epoch)
        assert [len(v) for v in done.history.values()] == [EPOCHS] * 4
        assert done.history["loss"][:epoch] == shown.history["loss"]  # the first epochs kept
        run = load_run(done.run_dir)
        assert run.history == done.history and run.result["epochs_run"] == EPOCHS
        assert run.result["initial_epoch"] == epoch
        assert [p.name for p in run.checkpoints] == [f"epoch_{i:02d}.npz"
                                                     for i in range(1, EPOCHS + 1)]
    finally:
        second.shutdown()
    assert not (runs / "jobs.json").exists()  # no job left to recover


def test_a_queued_job_at_a_restart_is_resumed_by_starting_it_again(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = JobRegistry(runs_dir=runs, max_concurrent=1)
    first.max_concurrent = 0  # nothing runs: the job stays queued
    job = first.start(TINY, 300)
    first.shutdown(interrupt=True)

    second = JobRegistry(runs_dir=runs, max_concurrent=1)
    try:
        shown = second.status(job)
        assert shown.state == "interrupted" and shown.progress == 0.0
        assert shown.error == "The server restarted while this network was waiting in the queue."
        second.max_concurrent = 0
        assert second.start(TINY, 300, owner="s") == job  # the same job, back in the queue
        again = second.status(job)
        assert (again.state, again.queue_position, again.owners) == ("queued", 1, 1)
        assert again.initial_epoch == 0 and again.error is None  # no checkpoint: from scratch
    finally:
        second.shutdown()


def test_a_damaged_journal_is_ignored(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "jobs.json").write_text('{"jobs": [')
    reg = JobRegistry(runs_dir=runs)
    reg.shutdown()
    assert reg.jobs() == []
    entries = [{"job_id": "x.1"}, 5, {"job_id": "y.1", "spec": TINY.to_dict(),
                                      "train_limit": 300, "state": "running", "epoch": 1}]
    (runs / "jobs.json").write_text(json.dumps({"version": 1, "jobs": entries}))
    reg = JobRegistry(runs_dir=runs)
    try:
        assert [(s.job_id, s.state, s.run_dir.name) for s in reg.jobs()] == [
            ("y.1", "interrupted", run_dir_name(TINY, 300))]
        assert reg.cancel("y.1") is True  # dismissed: it leaves the journal
        assert reg.status("y.1").state == "cancelled"
        assert not (runs / "jobs.json").exists()
    finally:
        reg.shutdown()
