"""The no-op marker of texts nn_core defines and the pages show in the student's language.

nn_core never imports Streamlit (nor ``ui.common.i18n``), yet some of its texts are what a page
shows: the course networks' titles (``nn_core.cnn.presets``), the hand-set kernels' titles and
descriptions (``nn_core.cnn.convolution``). They are wrapped in ``N_`` here so that ``make
messages`` (Babel, ``babel.cfg``) extracts them into the catalog; the English text stays the
value (it is stored in run folders and compared), and the page translates it where it shows it
(``ui.digits.state.spec_title``, ``ui.convolution.state.kernel_title``).
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """``message`` itself: only marks it for extraction."""
    return message
