"""The job registry with real spawned workers: tiny models on a few hundred images, ~6 jobs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nn_core.cnn.presets import custom_spec
from nn_core.training import jobs
from nn_core.training.jobs import JobRegistry
from nn_core.training.runs import run_dir_name
from tests.nn_core.training.helpers import wait_for
from tests.support import ROOT

TINY = custom_spec(conv_filters=(4,), dense_units=16, dropout_rate=0.0, epochs=2, batch_size=32)
DEADLINE_S = 120.0

SERVER_SCRIPT = """
import json, sys, time, types
sys.path.insert(0, {root!r})
page = types.ModuleType("__main__")  # what Streamlit installs while a page script runs
page.__file__ = {page!r}
sys.modules["__main__"] = page
from nn_core.cnn.presets import custom_spec
from nn_core.training import jobs
from nn_core.training.jobs import JobRegistry
spec = custom_spec(conv_filters=(4,), dense_units=16, dropout_rate=0.0, epochs=2, batch_size=32)
registry = JobRegistry(runs_dir={runs!r}, max_concurrent=2)
first, again = registry.start(spec, 300), registry.start(spec, 300)
seen, deadline = [], time.monotonic() + 120
while time.monotonic() < deadline:
    s = registry.status(first)
    seen.append([s.state, s.epoch, s.batch, s.batches])
    if s.state not in ("queued", "running"):
        break
    time.sleep(0.05)
registry.shutdown()
print(json.dumps({{"ids": [first, again], "jobs": len(registry.jobs()), "seen": seen,
                  "history": s.history, "test_accuracy": s.test_accuracy, "run_dir": str(s.run_dir),
                  "modules": sorted(m for m in ("tensorflow", "keras") if m in sys.modules)}}))
"""


def test_server_process_trains_without_importing_tensorflow(tmp_path: Path) -> None:
    page = tmp_path / "page.py"  # if a worker re-ran the page script, it would leave a mark
    page.write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\n")
    script = SERVER_SCRIPT.format(root=str(ROOT), page=str(page), runs=str(tmp_path / "runs"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=DEADLINE_S + 60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["modules"] == [] and not (tmp_path / "ran").exists()
    assert out["ids"][0] == out["ids"][1] and out["jobs"] == 1  # identical settings, one job
    states = [s[0] for s in out["seen"]]
    assert states[-1] == "done" and "running" in states
    assert {s[3] for s in out["seen"]} <= {0, 9} and max(s[1] for s in out["seen"]) == 2
    assert [len(v) for v in out["history"].values()] == [2, 2, 2, 2]
    run_dir = Path(out["run_dir"])
    assert run_dir.name == run_dir_name(TINY, 300) == f"custom-{TINY.key()[:8]}-300"
    result = json.loads((run_dir / "result.json").read_text())
    assert result["test_accuracy"] == out["test_accuracy"]

    # A new server process finds the finished run on disk instead of training again.
    reg = JobRegistry(runs_dir=tmp_path / "runs")
    try:
        status = reg.status(reg.start(TINY, 300))
        assert (status.state, status.pid, status.name) == ("done", None, "custom")
        assert status.test_accuracy == out["test_accuracy"] and status.history == out["history"]
        assert status.progress == 1.0 and status.elapsed_s == 0.0
    finally:
        reg.shutdown()


def test_an_idle_pump_waits_for_work_and_a_start_wakes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no job the pump thread does not poll (it did every 0.1 s, in every server, idle or
    not); start() wakes it, so a job's worker still starts at once."""
    monkeypatch.setattr(jobs, "IDLE_WAIT_S", 1e6)  # without the wake-up nothing would start
    registry = JobRegistry(runs_dir=tmp_path / "runs", poll_s=0.01)
    rounds = []
    pump = registry._pump
    monkeypatch.setattr(registry, "_pump", lambda: (rounds.append(1), pump()))
    try:
        time.sleep(0.5)  # 50 rounds at poll_s
        assert rounds == []
        job = registry.start(TINY, 300)
        started = wait_for(registry, job, lambda s: s.pid is not None)
        assert started.state == "running"
        registry.cancel(job)
        wait_for(registry, job, lambda s: s.pid is None)
    finally:
        registry.shutdown()


def test_queue_order_cancel_and_dead_worker(registry: JobRegistry) -> None:
    long = registry.start(custom_spec(conv_filters=(4,), dense_units=16, epochs=5, batch_size=32))
    second = registry.start(TINY, 300)
    third = registry.start(TINY, 200)
    fourth = registry.start(TINY, 250)
    assert [s.job_id for s in registry.jobs()] == [long, second, third, fourth]
    assert [registry.status(j).queue_position for j in (long, second, third, fourth)] == [
        None, 1, 2, 3]
    assert registry.status(long).state == "running"

    registry.cancel(fourth)  # queued: simply leaves the queue
    assert registry.status(fourth).state == "cancelled" and registry.status(fourth).pid is None
    assert registry.status(third).queue_position == 2

    running = wait_for(registry, long, lambda s: s.batch > 0)
    assert running.batches == 1688 and running.eta_s is not None and running.loss is not None
    registry.cancel(long)
    assert registry.status(long).state == "cancelled"
    wait_for(registry, second, lambda s: s.state != "queued")
    assert registry.status(third).queue_position == 1  # FIFO: the second job went first
    assert not (registry.status(long).run_dir / "result.json").exists()

    done = wait_for(registry, second, lambda s: s.state not in ("queued", "running"))
    assert (done.state, done.epoch, done.error) == ("done", 2, None)
    assert done.test_accuracy is not None and (done.run_dir / "weights.npz").exists()

    killed = wait_for(registry, third, lambda s: s.pid is not None)
    os.kill(killed.pid, signal.SIGKILL)  # e.g. the kernel's out-of-memory killer
    failed = wait_for(registry, third, lambda s: s.state != "running")
    assert failed.state == "failed"
    assert failed.error == "the training process exited with code -9 without a result"


def test_failed_job_shows_its_error_and_a_retry_is_a_new_attempt(tmp_path: Path) -> None:
    broken = tmp_path / "mnist.npz"
    broken.write_bytes(b"not a numpy file")
    reg = JobRegistry(runs_dir=tmp_path / "runs", max_concurrent=1, data_path=broken)
    try:
        first = reg.start(TINY, 300)
        failed = wait_for(reg, first, lambda s: s.state not in ("queued", "running"))
        assert failed.state == "failed" and "MNIST could not be read from" in failed.error
        retry = reg.start(TINY, 300)
        assert retry != first and retry.endswith(".2")
        assert wait_for(reg, retry, lambda s: s.state == "failed").error == failed.error
        assert [s.state for s in reg.jobs()] == ["failed", "failed"]
    finally:
        reg.shutdown()


def test_bad_requests_and_settings(registry: JobRegistry, monkeypatch: pytest.MonkeyPatch,
                                  tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="unknown training job id 'nope'"):
        registry.status("nope")
    with pytest.raises(KeyError, match="unknown training job id"):
        registry.cancel("nope")
    for bad in (5, 60_001, 300.0):
        with pytest.raises(ValueError, match="whole number between 20 and 60000"):
            registry.start(TINY, bad)
    with pytest.raises(ValueError, match="must be a whole number >= 1, got 0"):
        JobRegistry(max_concurrent=0)
    monkeypatch.setenv("NN_PLAYGROUND_MAX_JOBS", "two")
    with pytest.raises(ValueError, match="NN_PLAYGROUND_MAX_JOBS"):
        JobRegistry()
    monkeypatch.setenv("NN_PLAYGROUND_MAX_JOBS", "3")
    monkeypatch.setenv("NN_PLAYGROUND_RUNS", str(tmp_path))
    other = JobRegistry()
    other.shutdown()
    assert (other.max_concurrent, other.runs_dir) == (3, tmp_path)
    assert registry.jobs() == []
    registry.max_concurrent = 0  # keep the next start queued: no worker for a unit test
    assert registry.start(TINY, 60_000) == registry.start(TINY) == f"{run_dir_name(TINY, None)}.1"
    assert registry.status(registry.start(TINY)).queue_position == 1
