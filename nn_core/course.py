"""The course's settings in one place: every page and test reads its defaults from here."""

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
WEIGHT_RANGE: tuple[float, float] = (-2.0, 2.0)  # slider range of each weight
INPUT_RANGE: tuple[float, float] = (-10.0, 10.0)  # slider range of each input

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
DESCENT_RESOLUTION: int = 61  # grid points per axis of the error surface

# MNIST as keras.datasets.mnist.load_data() returns it, shipped in assets/.
MNIST_SHA256: str = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
SEED: int = 42

# ---------------------------------------------------------------------------------------------
# Draw a digit (lessons/draw_digit.py, ui/digit_*.py): lessons 000-004, a CNN reads a drawing.
# ---------------------------------------------------------------------------------------------
DIGIT_CANVAS_SIZE: int = 280  # px, square: 10× MNIST's 28×28
DIGIT_INKS: tuple[tuple[str, str, str], ...] = (  # (label, ink, background); the first is default
    ("White ink on black", "#FFFFFF", "#000000"),
    ("Black ink on white", "#000000", "#FFFFFF"),
)
DIGIT_STROKE_WIDTH: tuple[int, int, int] = (6, 40, 20)  # min, max, default (px on the canvas)
DIGIT_TEST_DIGITS: int = 10_000  # "Random test digit" draws from MNIST's 10,000 test images
DIGIT_MISTAKES_SHOWN: int = 24  # misclassified test digits in the gallery
DIGIT_TRAIN_KIND: str = "cnn_34826"  # the network the training form offers first (lesson 003)
DIGIT_TRAIN_IMAGES: tuple[int, ...] = (1_000, 10_000, 60_000)  # choices; 60,000 = all of MNIST
DIGIT_TRAIN_IMAGES_DEFAULT: int = 10_000
DIGIT_POLL_S: float = 1.0  # the training panel refreshes this often while a job is active
# The custom CNN the form starts from: conv 16-32 (3×3, max pooling), dense 64, dropout 0.25.
DIGIT_CUSTOM_FILTERS: tuple[int, int] = (16, 32)  # conv block 1, block 2 (0 = none)
DIGIT_CUSTOM_KERNEL: int = 3
DIGIT_CUSTOM_POOLING: str = "max"
DIGIT_CUSTOM_DENSE: int = 64
DIGIT_CUSTOM_DROPOUT: float = 0.25
DIGIT_CUSTOM_EPOCHS: int = 3
DIGIT_CUSTOM_BATCH_SIZE: int = 128
DIGIT_CUSTOM_OPTIMIZER: str = "adam"
DIGIT_CUSTOM_LEARNING_RATE: float = 0.001

# ---------------------------------------------------------------------------------------------
# Forward pass page (lessons/forward_pass.py, ui/forward_state.py).
# ---------------------------------------------------------------------------------------------
FORWARD_DTYPE: str = "float32"  # Keras's default floatx: the page computes and prints as Keras

# ---------------------------------------------------------------------------------------------
# Activation and loss curves page (lessons/curves.py, ui/curves_state.py): first-visit settings.
# ---------------------------------------------------------------------------------------------
CURVES_POINTS: int = 401  # samples per curve
CURVES_ACTIVATIONS: tuple[str, ...] = ("linear", "sigmoid", "relu", "tanh")  # the lesson's four
CURVES_X_RANGE: tuple[float, float] = (-10.0, 10.0)  # x axis of the activation curves
CURVES_Y_RANGE: tuple[float, float] = (-1.5, 3.0)  # y axis of f(x)
CURVES_REGRESSION_LOSSES: tuple[str, ...] = ("mse", "mae", "huber", "log_cosh")
CURVES_REGRESSION_RANGE: tuple[float, float] = (-3.0, 3.0)  # predictions drawn
CURVES_BINARY_TARGET: int = 1
CURVES_BINARY_RANGE: tuple[float, float] = (0.0, 1.0)
CURVES_BINARY_PREDICTION: float = 0.8

# ---------------------------------------------------------------------------------------------
# Gradient-descent page (lessons/gradient_descent.py, ui/descent_state.py).
# ---------------------------------------------------------------------------------------------
DESCENT_TOLERANCE: float = 0.01  # "within 0.01 of the minimum", the page's measure of arrival
DESCENT_COURSE_SEARCH_STEPS: int = 20_000  # how far the course's Adam is followed to count steps
DESCENT_MAX_STEPS: int = 20_000  # the steps input's upper end
DESCENT_SCALE: float = 1.0  # conditioning: input 1 multiplied by this
DESCENT_LOG_Y: bool = True  # logarithmic loss axis
# One-click scenarios: the ravine races (optimizer, learning rate) rows with input 1 scaled.
DESCENT_RAVINE_RUNS: tuple[tuple[str, float], ...] = (("sgd", 0.2), ("momentum", 0.02),
                                                      ("adam", 0.05))
DESCENT_RAVINE_SCALE: float = 3.0
DESCENT_RAVINE_STEPS: int = 100
DESCENT_REGIME_STEPS: int = 40  # enough for lr > 2 to pass nn_core's divergence limit
