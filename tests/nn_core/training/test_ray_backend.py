"""The Ray training backend on a real local Ray head that this module starts (2 CPUs) and
stops: several clients (replicas) share one registry, its queue, owners and limits; a killed
worker is reported failed; a job outlives the replica that started it; the registry actor
restarts from its journal; two real Streamlit servers share one registry."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.streamlit_client import Server, Session, texts
from nn_core.cnn.presets import custom_spec
from nn_core.cnn.specs import count_params
from nn_core.training.jobs import JobRegistry, NetworkTooLarge, RegistryBusy
from nn_core.training.ray_backend import (
    RayRegistry,
    backend_name,
    ensure_auth_token,
    ensure_local_head,
    open_registry,
    stop_local_head,
)
from tests.nn_core.training.helpers import TINY, finished, slow_spec, wait_for, wait_pid_gone
from tests.support import ROOT, run_async

DEADLINE_S = 240.0  # a worker imports TensorFlow on a 2-core machine shared with other tests


# ---------------------------------------------------------------------------------------------
# Choosing the backend (no Ray needed)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("backend", "address", "chosen"), [
    (None, None, "local"), (None, "10.0.0.5:6379", "ray"), ("ray", None, "ray"),
    (" Local ", "10.0.0.5:6379", "local"), ("RAY", "", "ray")])
def test_the_backend_is_local_unless_ray_is_asked_for_or_a_cluster_is_given(
        monkeypatch: pytest.MonkeyPatch, backend: str | None, address: str | None,
        chosen: str) -> None:
    for name, value in (("NN_PLAYGROUND_BACKEND", backend), ("RAY_ADDRESS", address)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert backend_name() == chosen


def test_an_unknown_backend_is_refused_by_name(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("NN_PLAYGROUND_BACKEND", "celery")
    with pytest.raises(ValueError, match="NN_PLAYGROUND_BACKEND must be 'local' or 'ray', got "
                                         "'celery'"):
        open_registry(tmp_path)


def test_the_local_backend_is_todays_registry(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.delenv("NN_PLAYGROUND_BACKEND", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    reg = open_registry(tmp_path / "runs")
    try:
        assert type(reg) is JobRegistry and reg.runs_dir == tmp_path / "runs"
    finally:
        reg.shutdown()


def test_a_head_on_a_machine_without_ray_history_gets_a_token_of_this_user(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray's `ray start --head` in token mode will not make a token; ``ensure_auth_token`` has
    Ray make one once (a fresh CI machine has no ~/.ray), readable only by its user, and
    leaves a given token alone."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
    token = tmp_path / ".ray" / "auth_token"
    ensure_auth_token()
    made = token.read_text().strip()
    assert len(made) >= 32 and token.stat().st_mode & 0o777 == 0o600
    ensure_auth_token()
    assert token.read_text().strip() == made  # kept, not made again
    other = tmp_path / "other"
    monkeypatch.setenv("HOME", str(other))
    monkeypatch.setenv("RAY_AUTH_TOKEN", "given")
    ensure_auth_token()
    assert not (other / ".ray").exists()
    monkeypatch.delenv("RAY_AUTH_TOKEN")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match="names no file"):
        ensure_auth_token()


# ---------------------------------------------------------------------------------------------
# A real Ray head for the module
# ---------------------------------------------------------------------------------------------
def _free_port() -> int:
    """A free TCP port outside Ray's worker port range (10002-19999)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if not 10_000 <= port < 20_000:
            return port


@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    """Start a local Ray head as a replica does (``ensure_local_head``) on a free port; this
    process joins it as a driver. Everything is stopped after the module."""
    env = pytest.MonkeyPatch()
    env.setenv("NN_PLAYGROUND_RAY_PORT", str(_free_port()))
    env.setenv("NN_PLAYGROUND_RAY_CPUS", "2")
    env.setenv("RAY_AUTH_MODE", "token")
    env.setenv("NN_PLAYGROUND_BACKEND", "ray")
    env.delenv("RAY_ADDRESS", raising=False)
    address, head = ensure_local_head()
    assert head is not None, f"a Ray head was already listening at {address}"
    try:
        assert ensure_local_head() == (address, None)  # a second replica joins it
        yield address
    finally:
        if "ray" in sys.modules:
            import ray

            ray.shutdown()
        stop_local_head(head)
        env.undo()


@pytest.fixture
def runs(tmp_path: Path, ray_head: str) -> Iterator[Path]:
    """A fresh runs folder (so a fresh registry actor); its actor is removed afterwards."""
    folder = tmp_path / "runs"
    yield folder
    RayRegistry(folder).shutdown(timeout=1.0)


@pytest.mark.ray
def test_two_clients_share_one_job_the_queue_the_owners_and_the_limits(runs: Path) -> None:
    a = RayRegistry(runs, max_concurrent=1, max_queue=1, max_params=50_000)
    b = RayRegistry(runs, max_concurrent=3, max_queue=5)  # joins: the first one's limits hold
    assert (b.max_concurrent, b.max_queue, b.max_params) == (1, 1, 50_000)
    assert b.runs_dir == runs.resolve()
    slow = slow_spec()
    first = a.start(slow, 300, owner="s1")
    assert b.start(slow, 300, owner="s2") == first  # identical settings: one job
    assert b.status(first).owners == 2
    second = b.start(TINY, 300, owner="s3")
    queued = a.status(second)
    assert (queued.state, queued.queue_position) == ("queued", 1)
    assert [j.job_id for j in a.jobs()] == [first, second]
    assert a.owner_job("s3") == second and b.owner_job("s1") == first
    with pytest.raises(RegistryBusy) as busy:  # the queue limit counts every client's jobs
        a.start(slow_spec(29), 300, owner="s4")
    assert busy.value.waiting == 1 and "1 training is waiting" in str(busy.value)
    big = custom_spec(conv_filters=(8,), dense_units=64)
    assert count_params(big) > 50_000
    with pytest.raises(NetworkTooLarge) as large:
        b.check_limits(big)
    assert large.value.limit == 50_000
    with pytest.raises(KeyError, match="unknown training job id 'nope'"):
        b.status("nope")

    running = wait_for(b, first, lambda s: s.pid is not None, DEADLINE_S)
    assert running.state == "running"
    assert a.cancel(first, "s1") is False  # s2 still waits for it
    assert b.status(first).state == "running" and b.status(first).owners == 1
    assert b.cancel(first, "s2") is True  # the last owner leaves: it stops
    assert a.status(first).state == "cancelled"
    assert wait_pid_gone(running.pid, 30), "ray.cancel(force=True) left the worker running"
    wait_for(a, second, lambda s: s.state == "running", DEADLINE_S)  # the slot went to it
    assert a.cancel(second) is True  # owner None: stopped for everyone
    assert b.status(second).state == "cancelled"


@pytest.mark.ray
def test_a_killed_worker_is_reported_failed_and_frees_its_slot(runs: Path) -> None:
    reg = RayRegistry(runs, max_concurrent=1)
    job = reg.start(slow_spec(), 300)
    training = wait_for(reg, job, lambda s: s.batches > 0 and s.pid is not None, DEADLINE_S)
    os.kill(training.pid, signal.SIGKILL)
    failed = wait_for(reg, job, finished, DEADLINE_S)
    assert failed.state == "failed" and failed.pid is None
    assert failed.error.startswith(f"the training worker (pid {training.pid} on "
                                   f"{socket.gethostname()}) died without a result: ")
    assert reg.jobs()[0].state == "failed"
    again = reg.start(slow_spec(), 300)  # a failed job is never shared: a new attempt
    assert again != job
    wait_for(reg, again, lambda s: s.state == "running", DEADLINE_S)
    reg.cancel(again)


REPLICA = """
import sys
from nn_core.training.ray_backend import RayRegistry
from tests.nn_core.training.helpers import TINY
print(RayRegistry(sys.argv[1]).start(TINY, 300, owner="student"))
"""


@pytest.mark.ray
def test_a_job_outlives_the_replica_that_started_it(runs: Path) -> None:
    replica = subprocess.run([sys.executable, "-c", REPLICA, str(runs)], cwd=ROOT, timeout=180,
                             capture_output=True, text=True)
    assert replica.returncode == 0, replica.stderr[-3000:]
    job = replica.stdout.split()[-1]
    reg = RayRegistry(runs)  # another replica, after the first one exited
    assert reg.owner_job("student") == job
    assert reg.start(TINY, 300, owner="classmate") == job
    assert reg.status(job).owners == 2
    done = wait_for(reg, job, finished, DEADLINE_S)
    assert done.state == "done", done.error
    assert (done.run_dir / "result.json").exists() and done.run_dir.parent == runs.resolve()
    assert len(done.history["loss"]) == TINY.recipe.epochs


@pytest.mark.ray
def test_the_registry_actor_restarts_from_its_journal(runs: Path) -> None:
    import ray

    reg = RayRegistry(runs)
    job = reg.start(slow_spec(), 300, owner="s1")
    running = wait_for(reg, job, lambda s: s.pid is not None, DEADLINE_S)
    ray.kill(reg.actor, no_restart=False)  # the actor's process dies; Ray restarts it
    after = wait_for(RayRegistry(runs), job, lambda s: True, 60)
    assert after.state == "interrupted", after
    assert after.error.startswith("The server restarted while this network was training")
    assert wait_pid_gone(running.pid, 30), "the dead actor's worker kept training"
    assert reg.resume(job, "s1") == job  # the old client reaches the restarted actor
    assert reg.status(job).state in ("queued", "running")
    reg.cancel(job)


# ---------------------------------------------------------------------------------------------
# Two real app servers (replicas) sharing the registry
# ---------------------------------------------------------------------------------------------
FORM = {"Filters, conv block 1": 4, "Filters, conv block 2 (0 = none)": 0,
        "Dense neurons (0 = none)": 0, "Epochs": 30}


def _leave_select_sliders(page: Session) -> None:
    """Send no state for select sliders (the server keeps their values): the protocol client
    does not encode them as Streamlit 1.67's frontend does."""
    for widget in page.widgets.values():
        if widget.kind == "slider" and widget.options:
            widget.value = None


async def _set(page: Session, label: str, value: object, kind: str | None = None) -> None:
    """Give a widget a value, as a student does."""
    _leave_select_sliders(page)
    result = await page.set(label, value, kind)
    assert result.ok, (label, result.status, result.exceptions)


async def _fill_and_train(page: Session) -> list[str]:
    """On the digit page: choose the small custom network and press Train; the page's texts."""
    await _set(page, "Network to train", "Custom CNN (choose its layers)")
    for label, value in FORM.items():
        await _set(page, label, value, "number_input")
    await _set(page, "Training images", "1,000")
    return await _click(page, "Train")


async def _click(page: Session, label: str) -> list[str]:
    """Click a button; the texts of the page after the rerun."""
    _leave_select_sliders(page)
    result = await page.click(label)
    assert result.ok, (result.status, result.exceptions)
    return texts(result.elements)


async def _two_students(one: Server, two: Server, reg: RayRegistry) -> None:
    """A student on each replica trains the same network; each cancels from their own page."""
    async with Session(one.ws_url, "digits") as a, Session(two.ws_url, "digits") as b:
        assert (await a.load()).ok and (await b.load()).ok
        shown = await _fill_and_train(a)
        assert any("Custom CNN: conv 4" in t for t in shown), shown
        [job] = reg.jobs()
        assert job.owners == 1 and job.state in ("queued", "running")
        shown = await _fill_and_train(b)  # identical settings on the other replica
        assert any("you share it" in t for t in shown), shown
        [shared] = reg.jobs()
        assert shared.job_id == job.job_id and shared.owners == 2
        shown = await _click(b, "Cancel training")  # b leaves; a still waits for it
        assert any("You left this training; it keeps running for 1 other student." in t
                   for t in shown), shown
        assert reg.status(job.job_id).owners == 1
        assert reg.status(job.job_id).state in ("queued", "running")
        shown = await _click(a, "Cancel training")  # the last owner: it stops
        assert reg.status(job.job_id).state == "cancelled"
        assert any("Training was cancelled." in t for t in shown), shown


@pytest.mark.ray
def test_two_app_servers_share_one_registry(runs: Path, tmp_path: Path, ray_head: str) -> None:
    env = {"NN_PLAYGROUND_BACKEND": "ray", "NN_PLAYGROUND_MAX_QUEUE": "4"}
    logs = tmp_path / "logs"
    with Server(ROOT, runs, logs / "a.log", env=env) as one, \
            Server(ROOT, runs, logs / "b.log", env=env) as two:
        run_async(_two_students(one, two, RayRegistry(runs)))
        assert one.process.poll() is None and two.process.poll() is None
