"""Test-wide settings: quiet TensorFlow on the CPU, the repo root importable, shared fixtures."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's oneDNN kernels, whatever the CPU. TensorFlow turns them on by itself only on CPUs
# with AVX-512 VNNI and newer (the Xeons of Colab, where the course's numbers come from). With
# them a float32 matmul rounds a*b + c*d as fma(c, d, round(a*b)), which is what the core copies
# (nn_core.basics.network._dot: the course's -8.846). Without them (an AVX2 machine such as an
# AMD EPYC) TensorFlow rounds each product first, and Keras's own numbers move by one ulp.
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"

ROOT = Path(__file__).resolve().parents[1]  # tests.support.ROOT, before it is importable
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nn_core.training.jobs import JobRegistry  # noqa: E402


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[JobRegistry]:
    """One-slot training registry in a temporary runs dir (real spawned workers); shut down
    after the test. Used by the registry's unit tests and the fault-injection tests."""
    reg = JobRegistry(runs_dir=tmp_path / "runs", max_concurrent=1)
    yield reg
    reg.shutdown()


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh NN_PLAYGROUND_RUNS, so the digit page gets its own training registry
    (``st.cache_resource`` per runs folder, its limits read from the environment when it is
    created); the registry is shut down after the test. A folder may define its own."""
    from ui.digits import state as digit_state

    folder = tmp_path / "runs"
    monkeypatch.setenv("NN_PLAYGROUND_RUNS", str(folder))
    yield folder
    digit_state.registry(str(folder)).shutdown()


@pytest.fixture(scope="session")
def browser():
    """One Debian Chromium for the whole run (never skipped: no Chromium is a failure), shared
    by every folder's browser tests: Playwright's sync API allows one instance per thread."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.e2e_support import launch_chromium

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()
