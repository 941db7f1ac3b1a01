"""What a student can take home from a page: its Keras code as a Python script and as a Jupyter
notebook, and a trained network's files (the Keras model and its weights).

Every button passes ``on_click="ignore"`` (a download does not rerun the page) and the larger
files as a callable, which Streamlit calls only when the button is clicked, in its own thread:
a page that is merely redrawn never reads a model file or builds a notebook.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import nbformat
import streamlit as st

from ui.common.i18n import _

NOTEBOOK_MIME = "application/x-ipynb+json"
_FILE_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _check_name(name: str) -> str:
    if not _FILE_NAME.fullmatch(name):
        raise ValueError(f"a download's file name takes letters, digits, '-' and '_', got {name!r}")
    return name


def notebook(code: str, title: str) -> str:
    """A Jupyter notebook (nbformat 4, JSON text): a Markdown cell with ``title`` and one code
    cell holding ``code`` exactly; validated against nbformat's schema before it is returned."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"), nbformat.v4.new_code_cell(code)]
    nbformat.validate(nb)
    return nbformat.writes(nb)


def code_downloads(code: str, name: str, title: str, key: str) -> None:
    """Two buttons under a page's Keras code: ``name``.py (the script as shown) and
    ``name``.ipynb (``notebook(code, title)``, built only when clicked)."""
    _check_name(name)
    left, right = st.columns(2)
    left.download_button(_("Download as a Python script (.py)"), code, file_name=f"{name}.py",
                         mime="text/x-python", key=key + "_py", on_click="ignore",
                         icon=":material/download:")
    right.download_button(_("Download as a Jupyter notebook (.ipynb)"),
                          lambda: notebook(code, title), file_name=f"{name}.ipynb",
                          mime=NOTEBOOK_MIME, key=key + "_ipynb", on_click="ignore",
                          icon=":material/download:")


def show_code(code: str, name: str, title: str, key: str) -> None:
    """A page's Keras code (``st.code``) and its two downloads under it (``code_downloads``)."""
    st.code(code, language="python")
    code_downloads(code, name, title, key)


def _reader(path: Path) -> Callable[[], bytes]:
    """A zero-argument callable for st.download_button: the file's bytes, read on click."""
    return lambda: path.read_bytes()


def model_downloads(run_dir: Path, key: str) -> None:
    """Buttons for a trained network's run folder: the whole Keras model (``model.keras``, for
    ``keras.models.load_model``) and its weights (``weights.npz``: ``model.get_weights()`` in
    order, arr_0, arr_1, ... for ``model.set_weights``), saved as mnist-<folder>.keras and
    mnist-<folder>-weights.npz. A file the folder lacks gets a note instead of a button."""
    name = "mnist-" + re.sub(r"[^A-Za-z0-9_-]+", "-", Path(run_dir).name)
    files = (
        ("model.keras", _("Download the trained network (.keras)"), f"{name}.keras",
         "application/zip"),
        ("weights.npz", _("Download its weights (.npz)"), f"{name}-weights.npz",
         "application/octet-stream"),
    )
    columns = st.columns(len(files))
    for column, (file, label, file_name, mime) in zip(columns, files, strict=True):
        path = Path(run_dir) / file
        if path.is_file():
            column.download_button(label, _reader(path), file_name=file_name, mime=mime,
                                   key=f"{key}_{file}", on_click="ignore",
                                   icon=":material/download:")
        else:
            column.caption(_("This network's folder has no {file}.").format(file=file))
