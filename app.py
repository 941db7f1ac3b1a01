"""Entry point: `streamlit run app.py` serves the home page and navigation over the lessons."""

from __future__ import annotations

import os

# One BLAS thread per process: the server's NumPy work is many tiny matrix products (one drawing
# through a CNN), where a second OpenBLAS thread on a busy 2-core host made a forward pass 8-15 ms
# instead of 0.3 ms (benchmarks/bench_inference.py). Set before NumPy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import streamlit as st

st.set_page_config(page_title="Neural-network playground", page_icon="🧠", layout="wide")


def home() -> None:
    """The home page: what each lesson page teaches."""
    st.title("Neural-network playground")
    st.write(
        "See how a neural network computes and learns. Every number on these pages is exactly "
        "what Keras computes for the same network, so you can check each one in the Keras code "
        "at the bottom of every page."
    )
    for page, text in LESSONS:
        st.page_link(page, label=f"**{page.title}**: {text}")


FORWARD = st.Page("lessons/forward_pass.py", title="Forward pass", icon="➡️", url_path="forward")
CURVES = st.Page("lessons/curves.py", title="Activations and losses", icon="📈", url_path="curves")
DESCENT = st.Page(
    "lessons/gradient_descent.py", title="Gradient descent", icon="⛰️", url_path="descent"
)
DIGITS = st.Page("lessons/draw_digit.py", title="Draw a digit", icon="✍️", url_path="digits")
CONVOLUTION = st.Page("lessons/convolution.py", title="Convolution", icon="🔲",
                      url_path="convolution")
LESSONS = (
    (FORWARD, "set the six weights of a 2-2-1 network and follow every neuron's value, the loss "
              "and one step of backpropagation."),
    (CURVES, "compare activation functions and losses side by side, with their derivatives."),
    (DESCENT, "watch optimizers roll down the 3D error surface of a two-weight model."),
    (DIGITS, "draw a digit for a CNN trained on MNIST and see its feature maps, layer by layer."),
    (CONVOLUTION, "slide a 3×3 kernel over a digit and follow each product, the sum, the "
                  "feature map, pooling and a colour filter's 28 parameters."),
)

navigation = st.navigation(
    [st.Page(home, title="Home", icon="🏠", default=True), FORWARD, CURVES, DESCENT, DIGITS,
     CONVOLUTION]
)
navigation.run()
