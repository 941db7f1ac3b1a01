"""Importing any nn_core module never loads TensorFlow or Keras: the web server imports them."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import nn_core

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(f"nn_core.{m.name}" for m in pkgutil.iter_modules(nn_core.__path__))

CHECK = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
    loaded = sorted({"tensorflow", "keras"} & set(sys.modules))
    print(name, ",".join(loaded) or "-")
"""


def test_every_module_is_found() -> None:
    assert {"nn_core.activations", "nn_core.losses", "nn_core.network", "nn_core.descent",
            "nn_core.digits", "nn_core.models", "nn_core.training", "nn_core.jobs"} <= set(MODULES)


def test_no_nn_core_module_imports_tensorflow_or_keras() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK, *MODULES], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    loaded = dict(line.split() for line in out if line)
    assert loaded == dict.fromkeys(MODULES, "-")
