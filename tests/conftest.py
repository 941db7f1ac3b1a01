"""Test-wide settings: quiet TensorFlow on the CPU, and the repo root importable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parents[1]  # tests.support.ROOT, before it is importable
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
