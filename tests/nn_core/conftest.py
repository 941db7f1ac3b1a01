"""Keras fixtures shared by the nn_core tests (Keras is imported inside them, never at collection).

Keras fixes its global dtype policy the first time any layer asks for it, so each fixture sets
both floatx and the policy, and restores the previous pair afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def _keras_in(dtype: str) -> Iterator[Any]:
    import keras

    old = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    yield keras
    keras.config.set_floatx(old[0])
    keras.config.set_dtype_policy(old[1])


@pytest.fixture
def keras32() -> Iterator[Any]:
    """Keras at its defaults (float32), whatever ran before."""
    yield from _keras_in("float32")


@pytest.fixture
def keras64() -> Iterator[Any]:
    """Keras with float64 layers and optimizer variables."""
    yield from _keras_in("float64")
