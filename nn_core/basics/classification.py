"""The 10-output layer of a digit classifier, number by number (lessons 000-001), and formulas.

The last Dense layer gives 10 logits z (one per digit); softmax turns them into probabilities p;
the loss compares p with the true digit, and its gradient with respect to the logits is simply
p - onehot. The losses come from the one table (``nn_core.basics.losses``), which computes them
from the probabilities as ``keras.losses`` do (from_logits=False): clipped to [1e-7, 1 - 1e-7].
When the probabilities come straight out of ``keras.activations.softmax`` (the Dense(10,
softmax) output in model.fit), Keras's crossentropies quietly read the logits behind them
instead, so training sees -log softmax(z)[label] unclipped (``logits_crossentropy``) and its
gradient p - onehot. The two agree unless a probability is below 1e-7 or above 1 - 1e-7.

``ACTIVATION_LATEX`` and ``LOSS_LATEX`` hold a LaTeX formula for every activation and loss of
those tables, for st.latex.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from nn_core.basics.activations import ACTIVATIONS, softmax
from nn_core.basics.losses import EPSILON, LOSSES, loss_value


@dataclass(frozen=True, eq=False)  # arrays inside: compare fields, not instances
class ClassificationView:
    """Everything about one sample's output layer; arrays are (k,) float64 (k = 10 for digits).

    ``categorical_crossentropy``, ``sparse_categorical_crossentropy`` and ``kl_divergence`` are
    what keras.losses give for these probabilities as numbers. ``kl_divergence`` is a little
    below the crossentropy because Keras clips the one-hot's zeros to 1e-7 as well, adding
    sum_j 1e-7 log(1e-7 / p_j). ``logits_crossentropy`` = -log p[label] computed from the logits
    (logsumexp(z) - z[label]), what Keras uses in training; ``gradient`` = p - onehot is its
    gradient with respect to the logits. ``clipped``: some probability lies outside
    [1e-7, 1 - 1e-7], so the values from the numbers may differ from the logits' value.
    """

    logits: np.ndarray
    label: int
    probabilities: np.ndarray
    onehot: np.ndarray
    predicted: int
    categorical_crossentropy: float
    sparse_categorical_crossentropy: float
    kl_divergence: float
    logits_crossentropy: float
    gradient: np.ndarray
    clipped: bool


def one_hot(label: int, classes: int = 10) -> np.ndarray:
    """The target vector (classes,) with a 1 at ``label``: 3 -> [0, 0, 0, 1, 0, ...]."""
    if isinstance(label, bool) or not isinstance(label, int | np.integer):
        raise ValueError(f"label must be a whole number, got {label!r}")
    if not 0 <= label < classes:
        raise ValueError(f"label must be between 0 and {classes - 1}, got {label}")
    return np.eye(classes)[int(label)]


def classification_view(logits: ArrayLike, label: int) -> ClassificationView:
    """Softmax, one-hot, the categorical losses and the logits' gradient for one sample.

    ``logits`` (k,) with k >= 2 (10 for the digits), ``label`` the true class in [0, k).
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or z.size < 2:
        raise ValueError(f"logits must be a vector of at least 2 numbers, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite numbers")
    t = one_hot(label, z.size)
    p = softmax(z)
    top = z.max()
    return ClassificationView(
        logits=z, label=int(label), probabilities=p, onehot=t, predicted=int(np.argmax(p)),
        categorical_crossentropy=loss_value("categorical_crossentropy", t[None], p[None]),
        sparse_categorical_crossentropy=loss_value("sparse_categorical_crossentropy",
                                                   [label], p[None]),
        kl_divergence=loss_value("kl_divergence", t[None], p[None]),
        logits_crossentropy=float(top + np.log(np.sum(np.exp(z - top))) - z[int(label)]),
        gradient=p - t,
        clipped=bool(np.any((p < EPSILON) | (p > 1.0 - EPSILON))))


_MEAN = r"\frac{1}{n}\sum_{i=1}^{n}"

ACTIVATION_LATEX: dict[str, str] = {
    "linear": r"f(x) = x",
    "sigmoid": r"\sigma(x) = \frac{1}{1 + e^{-x}}",
    "relu": r"\mathrm{relu}(x) = \max(0, x) = \begin{cases} x & x > 0 \\ 0 & x \le 0 \end{cases}",
    "tanh": r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
    "elu": r"\mathrm{elu}(x) = \begin{cases} x & x > 0 \\ e^{x} - 1 & x \le 0 \end{cases}",
    "selu": (r"\mathrm{selu}(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & "
             r"x \le 0 \end{cases}, \quad \lambda \approx 1.0507,\ \alpha \approx 1.6733"),
    "softplus": r"\mathrm{softplus}(x) = \log(1 + e^{x})",
    "softsign": r"\mathrm{softsign}(x) = \frac{x}{1 + |x|}",
    "hard_sigmoid": (r"\mathrm{hard\_sigmoid}(x) = \frac{\mathrm{relu6}(x + 3)}{6} = "
                     r"\max\left(0, \min\left(1, \frac{x + 3}{6}\right)\right)"),
    "exponential": r"f(x) = e^{x}",
    "leaky_relu": (r"\mathrm{leaky\_relu}(x) = \begin{cases} x & x > 0 \\ 0.2\,x & x \le 0 "
                   r"\end{cases}"),
    "relu6": r"\mathrm{relu6}(x) = \min(\max(0, x), 6)",
    "gelu": (r"\mathrm{gelu}(x) = x\,\Phi(x) = \frac{x}{2}\left(1 + "
             r"\mathrm{erf}\left(\frac{x}{\sqrt{2}}\right)\right)"),
    "silu": r"\mathrm{silu}(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}",
    "swish": r"\mathrm{swish}(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}",
    "mish": r"\mathrm{mish}(x) = x \tanh(\log(1 + e^{x}))",
    "hard_silu": r"\mathrm{hard\_silu}(x) = x \cdot \frac{\mathrm{relu6}(x + 3)}{6}",
    "log_sigmoid": r"\log \sigma(x) = -\log(1 + e^{-x})",
    "softmax": r"\mathrm{softmax}(z)_j = \frac{e^{z_j}}{\sum_{k=1}^{K} e^{z_k}}",
}

_LOSS_RIGHT_SIDES: dict[str, str] = {  # L(y, ŷ) = ...: y the target, ŷ the prediction
    "mse": _MEAN + r"(y_i - \hat{y}_i)^2",
    "mae": _MEAN + r"|y_i - \hat{y}_i|",
    "huber": (_MEAN + r"\begin{cases} \frac{1}{2}(y_i - \hat{y}_i)^2 & |y_i - \hat{y}_i| "
              r"\le \delta \\ \delta |y_i - \hat{y}_i| - \frac{1}{2}\delta^2 & \text{otherwise}"
              r" \end{cases}, \quad \delta = 1"),
    "log_cosh": _MEAN + r"\log\cosh(\hat{y}_i - y_i)",
    "mean_squared_logarithmic_error": _MEAN + r"\left(\log(1 + \hat{y}_i) - \log(1 + y_i)\right)^2",
    "mean_absolute_percentage_error": r"\frac{100}{n}\sum_{i=1}^{n}"
                                      r"\left|\frac{y_i - \hat{y}_i}{y_i}\right|",
    "poisson": _MEAN + r"\left(\hat{y}_i - y_i \log \hat{y}_i\right)",
    "cosine_similarity": r"-\frac{y \cdot \hat{y}}{\lVert y \rVert\,\lVert \hat{y} \rVert}",
    "binary_crossentropy": (r"-" + _MEAN + r"\left(y_i \log \hat{y}_i + (1 - y_i)"
                            r"\log(1 - \hat{y}_i)\right)"),
    "hinge": _MEAN + r"\max(0, 1 - y_i \hat{y}_i), \quad y_i \in \{-1, 1\}",
    "squared_hinge": _MEAN + r"\max(0, 1 - y_i \hat{y}_i)^2, \quad y_i \in \{-1, 1\}",
    "categorical_crossentropy": r"-\sum_{j=1}^{K} y_j \log \hat{y}_j",
    "sparse_categorical_crossentropy": r"-\log \hat{y}_c, \quad c = \text{the true class}",
    "kl_divergence": r"\sum_{j=1}^{K} y_j \log \frac{y_j}{\hat{y}_j}",
    "categorical_hinge": (r"\max\left(0, 1 + \max_{j \ne c} \hat{y}_j - \hat{y}_c\right), "
                          r"\quad c = \text{the true class}"),
}
LOSS_LATEX: dict[str, str] = {k: "L = " + v for k, v in _LOSS_RIGHT_SIDES.items()}

LATEX_ALIASES: dict[str, str] = {  # Keras's short loss names
    "kld": "kl_divergence", "msle": "mean_squared_logarithmic_error",
    "mape": "mean_absolute_percentage_error"}


def activation_latex(name: str) -> str:
    """The LaTeX formula of a Keras activation; ValueError naming the choices otherwise."""
    if name not in ACTIVATION_LATEX:
        raise ValueError(f"Unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATION_LATEX[name]


def loss_latex(name: str) -> str:
    """The LaTeX formula of a Keras loss (or "kld", "msle", "mape"); ValueError otherwise."""
    key = LATEX_ALIASES.get(name, name)
    if key not in LOSS_LATEX:
        raise ValueError(f"Unknown loss {name!r}; choose one of: {', '.join(LOSSES)}")
    return LOSS_LATEX[key]
