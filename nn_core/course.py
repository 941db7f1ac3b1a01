"""The course's numbers in one place (lessons 000-004): the worked examples every page starts
from and every test asserts. Settings of the interface live with each page in ``ui/``."""

from __future__ import annotations

# Lesson 002, the 2-2-1 network's worked example (no bias):
#   N1 = x1*w1 + x2*w2 = 2.154, N2 = x1*w3 + x2*w4 = -8.846, Y = N1*w5 + N2*w6 = 1.8263.
FORWARD_WEIGHTS: tuple[float, ...] = (0.42, 0.15, -0.56, 0.83, 0.93, 0.02)  # w1..w6
FORWARD_INPUTS: tuple[float, float] = (7.2, -5.8)  # x1, x2
FORWARD_TARGET: float = 0.34  # y_real of the lesson
FORWARD_HIDDEN_ACTIVATION: str = "linear"
FORWARD_OUTPUT_ACTIVATION: str = "linear"
FORWARD_LOSS: str = "mse"
FORWARD_LEARNING_RATE: float = 0.001  # 0.01 overshoots on the worked example (loss 2.21 -> 9.23)

# Lesson 002, gradient descent: Dense(1, input_dim=2, use_bias=False), Adam(0.001), mse.
DESCENT_INPUTS: tuple[tuple[float, float], ...] = ((1.0, 0.0), (0.0, 1.0))
DESCENT_TARGETS: tuple[float, ...] = (1.0, -1.0)
DESCENT_LOSS: str = "mse"
DESCENT_START: tuple[float, float] = (1.0, 1.0)  # the red point
DESCENT_MINIMUM: tuple[float, float] = (1.0, -1.0)
DESCENT_RANGE: tuple[float, float] = (-1.5, 1.5)  # both weights, as the lesson plots
DESCENT_OPTIMIZER: str = "adam"
DESCENT_LEARNING_RATE: float = 0.001  # the course's Adam(0.001)
DESCENT_STEPS: int = 5000  # the course's Adam(0.001) needs 4169 steps to get within 0.01

# MNIST as keras.datasets.mnist.load_data() returns it, shipped in assets/.
MNIST_SHA256: str = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
SEED: int = 42
DESCENT_TOLERANCE: float = 0.01  # "within 0.01 of the minimum": Adam(0.001) needs 4169 steps
