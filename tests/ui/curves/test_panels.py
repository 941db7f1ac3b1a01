"""The curves page's loss curves: every prediction at once, the numbers of one-sample Keras."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.basics.losses import LOSSES, ONE_OUTPUT_LOSSES, loss_gradient
from ui.curves.panels import loss_curves


@pytest.mark.parametrize("target", [0.0, 1.0, 0.3, -2.0])
@pytest.mark.parametrize("x_range", [(-3.0, 3.0), (0.001, 0.999), (-10.0, 10.0)])
def test_loss_curves_equal_one_sample_losses_and_gradients_bit_for_bit(
        target: float, x_range: tuple[float, float]) -> None:
    """The vectorised curves against ``LOSSES[name].fn`` and ``loss_gradient`` (both tested
    against Keras in tests/nn_core/basics/test_losses.py) called on a batch of one sample per
    prediction, as the page did before."""
    xs = np.linspace(*x_range, 101)
    values, grads = loss_curves(list(ONE_OUTPUT_LOSSES), target, xs)
    for name in ONE_OUTPUT_LOSSES:
        one = [(LOSSES[name].fn(np.array([[target]]), np.array([[p]]))[0],
                loss_gradient(name, np.array([[target]]), np.array([[p]]))[0, 0]) for p in xs]
        assert values[name].shape == grads[name].shape == xs.shape
        np.testing.assert_array_equal(values[name], [v for v, _ in one], err_msg=name)
        np.testing.assert_array_equal(grads[name], [g for _, g in one], err_msg=name)
