"""Workers die with their server: SIGKILL a server process mid-training and its worker is gone
within seconds (PR_SET_PDEATHSIG), and the polling fallback alone also ends an orphan."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.nn_core.training.helpers import pid_gone, wait_pid_gone
from tests.support import ROOT

SERVER_SCRIPT = """
import json, sys, time
sys.path.insert(0, {root!r})
from nn_core.cnn.presets import custom_spec
from nn_core.training.jobs import JobRegistry
spec = custom_spec(conv_filters=(4,), dense_units=16, dropout_rate=0.0, epochs=30, batch_size=32)
registry = JobRegistry(runs_dir={runs!r})
job = registry.start(spec, 2000, owner="session")
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    s = registry.status(job)
    if s.batch > 0 or s.state != "running":
        break
    time.sleep(0.05)
print(json.dumps({{"pid": s.pid, "state": s.state, "batch": s.batch}}), flush=True)
time.sleep(600)  # SIGKILLed by the test long before
"""

# A "server" whose child cannot use prctl (an invalid option number): only the thread that
# polls os.getppid() can notice that the server died.
POLLING_ONLY_SCRIPT = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", '''
import os, sys, time
sys.path.insert(0, {root!r})
from nn_core.training import worker
worker.PR_SET_PDEATHSIG = -1
worker.die_with_parent(os.getppid())
print("watching", flush=True)
time.sleep(600)
'''], stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().strip() == "watching"
print(child.pid, flush=True)
import time; time.sleep(600)
"""


def _run_server(script: str) -> tuple[subprocess.Popen, str]:
    """Start a server script and read its first output line (the worker's pid)."""
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = server.stdout.readline()
    assert line, server.stderr.read()[-3000:] if server.poll() is not None else "no output"
    return server, line


def test_a_worker_dies_within_seconds_when_its_server_is_killed(tmp_path: Path) -> None:
    server, line = _run_server(SERVER_SCRIPT.format(root=str(ROOT), runs=str(tmp_path / "runs")))
    try:
        started = json.loads(line)
        assert started["state"] == "running" and started["batch"] > 0, started
        worker_pid = started["pid"]
        assert not pid_gone(worker_pid)
        server.send_signal(signal.SIGKILL)  # no cleanup at all: no atexit, no finally
        server.wait(10)
        assert wait_pid_gone(worker_pid, 10), f"worker {worker_pid} outlived its server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_the_polling_thread_alone_ends_an_orphan() -> None:
    server, line = _run_server(POLLING_ONLY_SCRIPT.format(root=str(ROOT)))
    try:
        child_pid = int(line)
        assert not pid_gone(child_pid)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        assert wait_pid_gone(child_pid, 5), f"orphan {child_pid} kept running"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


# A "server" that starts the descent page's walk workers (ui.descent.walks) and prints their
# pids: they are spawned from whichever thread asks first, so only their parent check ends them.
WALK_SERVER_SCRIPT = """
import json, sys, time
sys.path.insert(0, {root!r})
from ui.descent.walks import WalkPool
pool = WalkPool(2)
print(json.dumps(pool.worker_pids()), flush=True)
time.sleep(600)
"""


def test_the_walk_workers_die_when_their_server_is_killed() -> None:
    server, line = _run_server(WALK_SERVER_SCRIPT.format(root=str(ROOT)))
    try:
        pids = json.loads(line)
        assert len(pids) == 2 and server.pid not in pids
        assert not any(pid_gone(pid) for pid in pids)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        for pid in pids:
            assert wait_pid_gone(pid, 10), f"walk worker {pid} outlived its server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
