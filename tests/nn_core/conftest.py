"""Fixtures shared by the nn_core tests (Keras is imported inside them, never at collection)."""

from __future__ import annotations

import pytest


@pytest.fixture
def keras64():
    """Keras with float64 layers and optimizer variables; restores the previous settings.

    set_floatx alone is not enough: Keras fixes its global dtype policy the first time any
    layer asks for it, so the policy is set too.
    """
    import keras

    old = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield keras
    keras.config.set_floatx(old[0])
    keras.config.set_dtype_policy(old[1])
