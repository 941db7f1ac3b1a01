"""Importing any nn_core module never loads TensorFlow or Keras: the web server imports them."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import nn_core
from tests.support import ROOT

MODULES = sorted(m.name for m in pkgutil.walk_packages(nn_core.__path__, "nn_core."))

CHECK = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
    loaded = sorted({"tensorflow", "keras"} & set(sys.modules))
    print(name, ",".join(loaded) or "-")
"""


def test_every_module_is_found() -> None:
    assert {"nn_core.basics.activations", "nn_core.basics.losses", "nn_core.basics.network",
            "nn_core.basics.descent", "nn_core.cnn.digits", "nn_core.cnn.presets",
            "nn_core.cnn.layers", "nn_core.training.worker", "nn_core.training.jobs",
            "nn_core.course"} <= set(MODULES)


def test_no_nn_core_module_imports_tensorflow_or_keras() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK, *MODULES], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    loaded = dict(line.split() for line in out if line)
    assert loaded == dict.fromkeys(MODULES, "-")
