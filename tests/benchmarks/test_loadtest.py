"""The load test's pieces that need no server: hiding a package from a baseline, the ratios.

The load test itself is a benchmark (it prints figures); its client is tested against the real
app in test_streamlit_client.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.loadtest import LevelResult, control_table, hiding_packages, ratio_table
from benchmarks.streamlit_client import ROOT


def test_a_baseline_server_can_be_kept_from_uvloop(tmp_path: Path) -> None:
    """``--hide-in-baseline uvloop``: with hiding_packages' environment, importing uvloop fails
    as for a missing package, and both uvicorn's automatic choice and Streamlit's server start
    (its bootstrap's own look for uvloop) fall back to the asyncio loop; without it, uvloop."""
    code = ("import asyncio; from uvicorn.loops.auto import auto_loop_factory; "
            "from streamlit.web.bootstrap import _get_uvloop_loop_factory; "
            "factory = _get_uvloop_loop_factory() or auto_loop_factory(); "
            "loop = factory(); print(type(loop).__module__); loop.close()")
    env = {**os.environ, **hiding_packages(["uvloop"], tmp_path / "hidden")}
    hidden = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True, cwd=ROOT)
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=ROOT)
    assert hidden.stdout.strip() == "asyncio.unix_events"
    assert plain.stdout.strip().startswith("uvloop")
    with pytest.raises(ValueError, match="not a package name"):
        hiding_packages(["uvloop; rm"], tmp_path / "bad")


def level(page: str, cpu_s: float, latency_s: float) -> LevelResult:
    """A level of 30 sessions that measured 10 reruns of ``latency_s`` in 10 s."""
    result = LevelResult("t", page, 30, 10.0)
    result.latencies_s = [latency_s] * 10
    result.server_cpu_s = cpu_s
    return result


def test_ratios_pair_a_page_measured_several_times_in_order() -> None:
    """``--pages descent,descent``: each baseline run is compared with the new run of the same
    turn, not every new run with the baseline's last."""
    base = [level("descent", 0.4, 0.2), level("descent", 0.2, 0.1)]
    new = [level("descent", 0.2, 0.1), level("descent", 0.2, 0.1)]
    rows = ratio_table(base, new, "old").splitlines()[2:]
    assert rows == ["| /descent | 30 | 2.00 | 2.00 | 1.00 |",
                    "| /descent | 30 | 1.00 | 1.00 | 1.00 |"]


def test_latencies_by_control_show_which_changes_make_the_tail() -> None:
    result = LevelResult("t", "descent", 30, 10.0)
    result.by_control = {"Steps": [0.2, 0.4, 0.3], "Step": [0.01] * 6 + [0.02]}
    result.bytes_by_control = {"Steps": [150 * 1024, 140 * 1024, 152 * 1024],
                               "Step": [51 * 1024] * 7}
    result.latencies_s = [x for xs in result.by_control.values() for x in xs]
    rows = control_table([result]).splitlines()[2:]
    assert rows == [  # most changed first
        "| /descent | 30 | Step | 7 | 70% | 10 | 20 | 20 | 51.0 | 51.0 |",
        "| /descent | 30 | Steps | 3 | 30% | 300 | 400 | 400 | 150.0 | 152.0 |"]
