"""Entry point: `streamlit run app.py` serves the home page and navigation over the lessons.

Streamlit runs this file as the script (``__main__``) on every rerun of every session: ``main``
draws the navigation and the page. The web server imports it once (``__name__ == "app"``):
`streamlit run` finds ``app``, an ``st.App`` that serves the app with the live class's watch
route (``ui.classroom.watch``) beside Streamlit's own.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

# One BLAS thread per process: the server's NumPy work is many tiny matrix products (one drawing
# through a CNN), where a second OpenBLAS thread on a busy 2-core host made a forward pass 8-15 ms
# instead of 0.3 ms (benchmarks/bench_inference.py). Set before NumPy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import streamlit as st

from ui.common import widget_lookup
from ui.common.i18n import _, choose_language, language_switch

if TYPE_CHECKING:
    from streamlit.navigation.page import StreamlitPage


def home() -> None:
    """The home page: what each lesson page teaches."""
    st.title(_("Neural-network playground"))
    st.write(_(
        "See how a neural network computes and learns. Every number on these pages is exactly "
        "what Keras computes for the same network, so you can check each one in the Keras code "
        "at the bottom of every page."
    ))
    for page, text in lessons():
        st.page_link(page, label=f"**{page.title}**: {text}")


def lessons() -> list[tuple[StreamlitPage, str]]:
    """The lesson pages, in the run's language, each with what it teaches."""
    forward = st.Page("lessons/forward_pass.py", title=_("Forward pass"), icon="➡️",
                      url_path="forward")
    curves = st.Page("lessons/curves.py", title=_("Activations and losses"), icon="📈",
                     url_path="curves")
    descent = st.Page("lessons/gradient_descent.py", title=_("Gradient descent"), icon="⛰️",
                      url_path="descent")
    digits = st.Page("lessons/draw_digit.py", title=_("Draw a digit"), icon="✍️",
                     url_path="digits")
    convolution = st.Page("lessons/convolution.py", title=_("Convolution"), icon="🔲",
                          url_path="convolution")
    return [
        (forward, _("set the six weights of a 2-2-1 network and follow every neuron's value, "
                    "the loss and one step of backpropagation.")),
        (curves, _("compare activation functions and losses side by side, with their "
                   "derivatives.")),
        (descent, _("watch optimizers roll down the 3D error surface of a two-weight model.")),
        (digits, _("draw a digit for a CNN trained on MNIST and see its feature maps, layer by "
                   "layer.")),
        (convolution, _("slide a 3×3 kernel over a digit and follow each product, the sum, the "
                        "feature map, pooling and a colour filter's 28 parameters.")),
    ]


def main() -> None:
    """One run: the language, the navigation over the lessons, the live class, the page."""
    widget_lookup.install()  # once per process: input widgets look up one key, not all
    choose_language()  # before the first text: the page title is in the session's language
    st.set_page_config(page_title=_("Neural-network playground"), page_icon="🧠",
                       layout="wide")
    pages = [page for page, _text in lessons()]
    # --- The live class (issue 14): its dashboard page; the room box in the sidebar, and for a
    # student who follows, the teacher's page and settings set before the page draws its widgets.
    classroom = st.Page("lessons/classroom.py", title=_("Class dashboard"), icon="👩‍🏫",
                        url_path="classroom")
    # --- end of the live class

    navigation = st.navigation(
        [st.Page(home, title=_("Home"), icon="🏠", default=True), *pages, classroom]
    )
    language_switch()  # in the sidebar of every page, below the navigation
    # --- The live class (issue 14)
    from ui.classroom.panels import after_page, before_page, publish, report_task, watch_in_page
    from ui.common.lesson import TASK_LISTENERS
    from ui.common.state import URL_LISTENERS

    if publish not in URL_LISTENERS:  # once per process: app.py runs on every rerun
        URL_LISTENERS.extend([publish, watch_in_page])
    if report_task not in TASK_LISTENERS:
        TASK_LISTENERS.append(report_task)

    before_page({p.url_path: p for p in pages}, navigation.url_path)
    navigation.run()
    after_page()
    # --- end of the live class


if __name__ == "__main__":
    main()
else:  # the web server, which imports this file to find ``app``
    from ui.classroom.watch import routes
    from ui.common.server_memory import freeze_imported_code

    app = st.App(__file__, routes=routes())
    # Once, before the first session: the libraries' code out of the garbage collector's walks
    # (ui/common/server_memory.py: full collections of ~200 ms under a class's load).
    freeze_imported_code()
